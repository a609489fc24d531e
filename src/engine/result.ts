import type { Target } from '../core/settings.js';
import type { AttemptRecord } from '../core/events.js';
import type { ChatResponse, ErrorPayload } from '../providers/types.js';
import type { EmbeddingsAnswer } from '../providers/embeddings/index.js';
import type { StreamPiece } from './stream-processor.js';

export type { StreamPiece };

/** Who served a request and how: the data behind the `x-detour-*` headers. */
export interface ServedMeta {
  requestId: string;
  route: string;
  /** The target that answered; absent when none did. */
  target?: Target | undefined;
  attempts: readonly AttemptRecord[];
  /** Served by another target than the first candidate. */
  isFailover: boolean;
  /** Served by the route named in `degrade_to`. */
  isDegraded: boolean;
}

/**
 * A whole answer as the engine has it; the gateway encodes it in the client's format on the way
 * out (`gateway/encode-result.ts`): the engine never holds a client's codec.
 */
export type BodyContent =
  /** Passed through from a target of the client's own format (its answer, or its error body): written as it is. */
  | { kind: 'raw'; bytes: Buffer | string }
  /** Translated from another format: the canonical answer. */
  | { kind: 'canonical'; response: ChatResponse }
  /** An embeddings answer checked and held as vectors, written in the client's encoding by the gateway. */
  | { kind: 'embeddings'; answer: EmbeddingsAnswer }
  /** Detour's own error (every target failed, the request cannot be served). */
  | { kind: 'error'; error: ErrorPayload };

export interface BodyResult {
  type: 'body';
  status: number;
  content: BodyContent;
  /** Extra response headers (retry-after on a 429). */
  headers: Record<string, string>;
  meta: ServedMeta;
}

/** A stream whose first event has arrived, as pieces the gateway encodes in the client's format. */
export interface StreamResult {
  type: 'stream';
  status: number;
  /** From a target of the client's own format: the pieces carry its SSE text as it is. */
  isPassThrough: boolean;
  head: StreamPiece;
  /** The rest of the stream; ends with a `failure` piece if the upstream fails midway. Call `return()` to cancel. */
  rest: AsyncGenerator<StreamPiece, void, undefined>;
  /** Where the text written to the client is kept for the request log (`log.bodies`), when it is. */
  captured?: string[] | undefined;
  meta: ServedMeta;
}

export type EngineResult = BodyResult | StreamResult;

/** Counts real upstream calls (not skipped targets) for `x-detour-attempts`. */
export function countUpstreamCalls(attempts: readonly AttemptRecord[]): number {
  let count = 0;
  for (const attempt of attempts) if (attempt.role !== 'mirror') count++;
  return count;
}
