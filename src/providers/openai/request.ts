import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { joinUrl } from '../shared/json.js';
import { rawWithModel } from '../shared/raw-json.js';
import type { BuildOptions, ChatRequest, UpstreamRequest } from '../types.js';
import { isChatOnlyModel, isReasoningModel } from './model-families.js';

/**
 * Where OpenAI-compatible vendors differ: the URL of a call and how the key is sent.
 * Plain OpenAI (and Mistral, Groq, DeepSeek, OpenRouter, Ollama, vLLM) and Azure OpenAI are
 * the same adapter with different hooks.
 */
export interface OpenAiDialect {
  chatUrl(target: Target): string;
  modelsUrl(target: Target): string;
  authHeaders(target: Target): Record<string, string>;
  /** Azure names the deployment in the URL; the body's `model` is then ignored but harmless. */
}

export const openAiDialect: OpenAiDialect = {
  chatUrl: (target) => joinUrl(target.provider.baseUrl, 'chat/completions'),
  modelsUrl: (target) => joinUrl(target.provider.baseUrl, 'models'),
  authHeaders: (target): Record<string, string> => (target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
};

export const azureOpenAiDialect: OpenAiDialect = {
  chatUrl: (target) =>
    `${joinUrl(target.provider.baseUrl, `openai/deployments/${encodeURIComponent(target.model)}/chat/completions`)}?api-version=${azureApiVersion(target)}`,
  modelsUrl: (target) => `${joinUrl(target.provider.baseUrl, 'openai/models')}?api-version=${azureApiVersion(target)}`,
  authHeaders: (target) => ({ 'api-key': target.apiKey }),
};

export function azureApiVersion(target: Target): string {
  const version = target.provider.options.api_version;
  return encodeURIComponent(typeof version === 'string' ? version : '2024-10-21');
}

/**
 * Builds the upstream body from an OpenAI-shaped object: the client's own fields pass through,
 * only the model is replaced (and stream usage requested when we need it for cost).
 */
export function buildOpenAiRequest(
  dialect: OpenAiDialect,
  body: Record<string, unknown>,
  target: Target,
  options: BuildOptions,
): UpstreamRequest {
  const fixed = fixedPartsOf(dialect, target);
  const asksUsage = options.stream && options.wantStreamUsage && target.provider.options.stream_usage !== false;
  if (options.raw && !(asksUsage && body.stream_options !== undefined)) {
    return { url: fixed.url, method: 'POST', headers: fixed.headers, body: rawWithModel(options.raw, target.model, asksUsage ? '"stream_options":{"include_usage":true}' : undefined) };
  }
  let outgoing: Record<string, unknown> = { ...body, model: target.model };
  if (asksUsage) {
    const streamOptions = typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
    outgoing = { ...outgoing, stream_options: { ...streamOptions, include_usage: true } };
  }
  return { url: fixed.url, method: 'POST', headers: fixed.headers, body: JSON.stringify(outgoing) };
}

/** What every chat call to one target shares: its URL and headers (the key included). */
interface FixedParts {
  dialect: OpenAiDialect;
  url: string;
  headers: Readonly<Record<string, string>>;
}

/** Built once per target rather than per request; a target (one key of one model) lives as long as its config. */
const fixedParts = new WeakMap<Target, FixedParts>();

function fixedPartsOf(dialect: OpenAiDialect, target: Target): FixedParts {
  let parts = fixedParts.get(target);
  if (parts?.dialect !== dialect) {
    parts = { dialect, url: dialect.chatUrl(target), headers: Object.freeze({ 'content-type': 'application/json', ...target.provider.headers, ...dialect.authHeaders(target) }) };
    fixedParts.set(target, parts);
  }
  return parts;
}

/**
 * The canonical request is already OpenAI-shaped. Only requests translated from another format
 * come here, so `extra` holds that format's own fields: OpenAI would refuse them with a 400 that
 * looks like the client's fault, so the target is skipped instead, naming them.
 */
export function canonicalToOpenAiBody(request: ChatRequest, target: Target): Record<string, unknown> {
  const { extra, ...fields } = request;
  const unsupported = Object.keys(extra ?? {});
  if (unsupported.length > 0) {
    throw new DetourError({
      kind: 'failover',
      code: 'UNSUPPORTED_FEATURE',
      status: 400,
      target: target.id,
      message: `${target.id} (OpenAI format) cannot express ${unsupported.map((key) => `"${key}"`).join(', ')}`,
    });
  }
  const body: Record<string, unknown> = { ...fields };
  if (isReasoningModel(target.model) && body.max_tokens !== undefined) {
    body.max_completion_tokens ??= body.max_tokens;
    delete body.max_tokens;
  } else if (isChatOnlyModel(target.model)) {
    // The effort was the client's thinking setting; a model without reasoning would refuse the request for it.
    delete body.reasoning_effort;
  }
  return body;
}
