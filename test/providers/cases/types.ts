import type { DetourErrorCode, ErrorKind } from '../../../src/core/errors.js';
import type { Target } from '../../../src/core/settings.js';
import type { ChatChunk, ChatRequest, ChatResponse, Usage } from '../../../src/providers/types.js';

/**
 * What one adapter must do, as data: the conformance suite (`../conformance.test.ts`) runs the
 * same checks over every adapter's cases. Fixtures are named relative to the shared fixtures
 * folder (`openai/text.json`); expected values are written out in full.
 */
export interface AdapterCases {
  /** The provider `type:` the adapter is registered under. */
  provider: string;
  /** A target of this provider (its key is checked never to leak into error messages). */
  target: Target;
  /** Canonical requests and the exact upstream call each becomes. */
  requests: RequestCase[];
  /** Bodies already in this format, forwarded with only the model replaced. */
  passThrough: PassThroughCase[];
  /** Canonical requests this target cannot express: refused with a classified error, never trimmed. */
  refused: RefusedCase[];
  /** Whole upstream answers and the canonical response each becomes. */
  responses: ResponseCase[];
  /** Upstream streams and the canonical chunks each becomes. */
  streams: StreamCase[];
  /** Upstream error answers and their classification. */
  errors: ErrorCase[];
  probe: { url: string; method: 'GET'; headers: Record<string, string> };
}

export interface ExpectedCall {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  /** The body, parsed: asserted exactly (no field more, none less). */
  body: unknown;
}

export interface RequestCase {
  name: string;
  request: ChatRequest;
  stream: boolean;
  /** A target other than the suite's own (another model, another base URL). */
  target?: Target;
  expected: ExpectedCall;
}

export interface PassThroughCase {
  name: string;
  body: Record<string, unknown>;
  stream: boolean;
  expected: ExpectedCall;
}

export interface RefusedCase {
  name: string;
  request: ChatRequest;
  expected: { kind: ErrorKind; code: DetourErrorCode; messageIncludes: string };
}

export interface ResponseCase {
  name: string;
  /** A fixture file, or an inline body for what no fixture shows. */
  fixture?: string;
  body?: unknown;
  expected: ChatResponse;
}

export interface StreamCase {
  name: string;
  /** A `.chunks.txt` fixture; the suite frames it as the provider does on the wire. */
  fixture?: string;
  /** Inline event payloads, for what no fixture shows. */
  events?: unknown[];
  expected: ChatChunk[];
}

export interface ErrorCase {
  name: string;
  status: number;
  headers?: Record<string, string>;
  fixture?: string;
  body?: unknown;
  expected: { kind: ErrorKind; code: DetourErrorCode; retryAfterMs?: number };
}

/** The suite freezes `Date` here, so that times an adapter stamps itself are known. */
export const fixedNowMs = Date.UTC(2026, 0, 15, 12, 0, 0);
export const fixedNowSeconds = Math.floor(fixedNowMs / 1000);

/** A target as the config layer would build it. */
export function makeTarget(type: string, baseUrl: string, model: string, apiKey: string, options: Record<string, unknown> = {}): Target {
  return {
    id: `${type}-test/${model}`,
    provider: { name: `${type}-test`, type, baseUrl, apiKeys: [apiKey], headers: {}, options },
    model,
    apiKey,
    keyIndex: 0,
    settings: { provider: `${type}-test`, model, weight: 1 },
  };
}

/** Usage with only the fields given, for readable expectations. */
export function usage(prompt: number, completion: number, total: number, details: Pick<Usage, 'prompt_tokens_details' | 'completion_tokens_details'> = {}): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total, ...details };
}
