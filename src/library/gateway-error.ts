import type { ServedInfo } from './served.js';

export interface GatewayErrorInit {
  status: number;
  code: string | undefined;
  message: string;
  body: unknown;
  headers?: Record<string, string> | undefined;
  served?: ServedInfo | undefined;
}

/**
 * A request Detour answered with an error: the client's own mistake (400), an upstream's
 * refusal passed on as it was, or every target failing (503, 429, 504). It carries what the
 * HTTP server would have sent: the status, the body in the client's format, the headers.
 */
export class GatewayError extends Error {
  /** The HTTP status the server would have answered with. */
  readonly status: number;
  /**
   * Detour's stable code (`ALL_TARGETS_FAILED`, `DEADLINE_EXCEEDED`, `INVALID_REQUEST`,
   * `STREAM_INTERRUPTED`, …) or, for an upstream's own error passed through, the upstream's code.
   */
  readonly code: string | undefined;
  /** The error body in the client's format (OpenAI's `{error}`, Anthropic's `{type:'error'}`). */
  readonly body: unknown;
  /** Headers the server would have sent with it, such as `retry-after` on a 429. */
  readonly headers: Readonly<Record<string, string>>;
  /** Who was tried and how; absent when the request was refused before it was routed. */
  readonly served: ServedInfo | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.name = 'GatewayError';
    this.status = init.status;
    this.code = init.code;
    this.body = init.body;
    this.headers = init.headers ?? {};
    this.served = init.served;
  }

  /** The wait the gateway advises before trying again (from `retry-after`), in milliseconds. */
  get retryAfterMs(): number | undefined {
    const seconds = Number(this.headers['retry-after']);
    return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
  }
}
