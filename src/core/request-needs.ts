import type { RequestNeeds } from './capabilities.js';

/**
 * The parts of a canonical chat request that decide what it needs. Declared structurally so
 * that `core/` does not depend on `providers/`; `ChatRequest` satisfies it as it is.
 */
export interface NeedsSource {
  readonly messages: readonly unknown[];
  readonly tools?: readonly unknown[] | undefined;
  readonly response_format?: { readonly type: string } | undefined;
}

/** Tokens an image is assumed to cost: OpenAI's 85 for `detail: low`, a 1024×1024 tile set otherwise. */
const lowDetailImageTokens = 85;
const imageTokens = 765;
/** OpenAI's cookbook count: every message costs a few tokens of framing, and the reply primer three. */
const tokensPerMessage = 4;
const replyPrimerTokens = 3;
/** Prose in Latin script runs about four characters a token; code and CJK run fewer, so this errs low. */
const charsPerToken = 4;
/** Deep enough for any real message; bounds the walk on hostile input. */
const maxDepth = 8;

/**
 * A cheap estimate of a request's input tokens, without a tokenizer. It errs low for most text,
 * which is what a capability filter wants: a target is skipped for its context window only when
 * the prompt clearly does not fit, and a near miss is left to the upstream (whose
 * context-length error fails over anyway). Images count a fixed amount, never their base64.
 */
export function estimateInputTokens(source: NeedsSource): number {
  let chars = 0;
  let tokens = replyPrimerTokens;
  const visit = (value: unknown, depth: number): void => {
    if (typeof value === 'string') {
      chars += value.length;
      return;
    }
    if (depth >= maxDepth || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    if (isImagePart(value)) {
      tokens += imageDetail(value) === 'low' ? lowDetailImageTokens : imageTokens;
      return;
    }
    for (const item of Object.values(value)) visit(item, depth + 1);
  };
  for (const message of source.messages) {
    tokens += tokensPerMessage;
    visit(message, 0);
  }
  if (source.tools && source.tools.length > 0) chars += JSON.stringify(source.tools).length;
  return tokens + Math.ceil(chars / charsPerToken);
}

/** What a request needs of its target: images, tools, a JSON response, room for its input. */
export function requestNeeds(source: NeedsSource): RequestNeeds {
  return {
    vision: source.messages.some(hasImage),
    tools: (source.tools?.length ?? 0) > 0,
    json: source.response_format?.type === 'json_object' || source.response_format?.type === 'json_schema',
    inputTokens: estimateInputTokens(source),
  };
}

function isImagePart(value: object): boolean {
  return (value as { type?: unknown }).type === 'image_url';
}

function imageDetail(value: object): unknown {
  const image = (value as { image_url?: unknown }).image_url;
  return typeof image === 'object' && image !== null ? (image as { detail?: unknown }).detail : undefined;
}

function hasImage(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const content = (message as { content?: unknown }).content;
  return Array.isArray(content) && content.some((part) => typeof part === 'object' && part !== null && isImagePart(part));
}
