import type { Target } from '../core/settings.js';
import type { AttemptRecord } from '../core/events.js';

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

/** A whole answer, already in the client's format. */
export interface BodyResult {
  type: 'body';
  status: number;
  body: Buffer | string;
  /** Extra response headers (retry-after on a 429). */
  headers: Record<string, string>;
  meta: ServedMeta;
}

/** A stream whose first event has arrived, in the client's format. */
export interface StreamResult {
  type: 'stream';
  status: number;
  head: string;
  /** The rest of the stream; ends with an explicit error event if the upstream fails midway. Call `return()` to cancel. */
  rest: AsyncGenerator<string, void, undefined>;
  contentType: string;
  meta: ServedMeta;
}

export type EngineResult = BodyResult | StreamResult;

/** Counts real upstream calls (not skipped targets) for `x-detour-attempts`. */
export function countUpstreamCalls(attempts: readonly AttemptRecord[]): number {
  let count = 0;
  for (const attempt of attempts) if (attempt.role !== 'mirror') count++;
  return count;
}
