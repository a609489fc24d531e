/**
 * The error taxonomy. Every failure is classified once, where it is seen, into a kind; the
 * attempt loop decides only from the kind, never from raw status codes.
 *
 * - `retryable`: transient (429, 5xx, 529, timeouts, connection errors): retry the same target
 *   after backoff, honouring Retry-After, then fail over.
 * - `failover`: this target cannot serve it (a bad key, an unknown model, a context window too
 *   small, a quota spent): skip to the next target without retrying this one.
 * - `fatal`: the client's own invalid request: answer at once, call nothing else.
 */
export type ErrorKind = 'retryable' | 'failover' | 'fatal';

/** Stable machine-readable codes; clients and metrics may rely on them. */
export type DetourErrorCode =
  // upstream, transient
  | 'UPSTREAM_CONNECT_FAILED'
  | 'UPSTREAM_CONNECTION_RESET'
  | 'UPSTREAM_SERVER_ERROR'
  | 'UPSTREAM_OVERLOADED'
  | 'UPSTREAM_RATE_LIMITED'
  | 'UPSTREAM_FIRST_BYTE_TIMEOUT'
  | 'UPSTREAM_ATTEMPT_TIMEOUT'
  | 'UPSTREAM_STREAM_IDLE_TIMEOUT'
  /** A stream slower than the route's `stream_min_tokens_per_s`. */
  | 'UPSTREAM_STREAM_TOO_SLOW'
  | 'UPSTREAM_BAD_RESPONSE'
  // upstream, this target cannot serve it
  | 'UPSTREAM_AUTH_FAILED'
  | 'UPSTREAM_PERMISSION_DENIED'
  | 'UPSTREAM_MODEL_NOT_FOUND'
  | 'UPSTREAM_QUOTA_EXCEEDED'
  | 'CONTEXT_LENGTH_EXCEEDED'
  | 'CONTENT_POLICY'
  | 'UNSUPPORTED_FEATURE'
  // the client's request
  | 'UPSTREAM_INVALID_REQUEST'
  | 'INVALID_REQUEST'
  | 'INVALID_JSON'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'ROUTE_NOT_FOUND'
  /** A chat request to an embeddings route, or an embeddings request to a chat route. */
  | 'WRONG_ROUTE_KIND'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'BUDGET_EXCEEDED'
  /** A target at its rate limit (declared, or learned from its headers): skipped before the provider would answer 429. Internal: never answered. */
  | 'TARGET_AT_LIMIT'
  /** Every target was at its limit and the route's queue was full: 429 with retry-after. */
  | 'QUEUE_FULL'
  /** Every target stayed at its limit for the route's whole `queue.timeout_ms`: 429 with retry-after. */
  | 'QUEUE_TIMEOUT'
  /** What Node's HTTP parser refuses: malformed HTTP (400), headers too large (431), a request too slow to arrive (408). */
  | 'BAD_REQUEST'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  // the request as a whole
  | 'DEADLINE_EXCEEDED'
  | 'ALL_TARGETS_FAILED'
  | 'NO_TARGET_AVAILABLE'
  | 'STREAM_INTERRUPTED'
  | 'CLIENT_CLOSED'
  /** Detour was stopping and the request did not finish within `server.shutdown_grace_ms`. */
  | 'SHUTTING_DOWN'
  /** An attempt Detour itself called off: the other side of a hedge won. */
  | 'CANCELLED'
  | 'INTERNAL_ERROR';

export interface DetourErrorInit {
  kind: ErrorKind;
  code: DetourErrorCode;
  message: string;
  /** HTTP status the upstream answered, or the one Detour answers with for its own errors. */
  status?: number;
  /** Target id (`provider/model#key`); never the key itself. */
  target?: string;
  /** How long the upstream asked us to wait, from Retry-After and friends. */
  retryAfterMs?: number;
  /** The request parameter at fault, for client errors. */
  param?: string;
  /** The upstream's error body, already parsed, when the client should see it as it is. */
  upstreamBody?: unknown;
  /** The upstream's own error type (`invalid_request_error`, `overloaded_error`, …). */
  upstreamType?: string;
  cause?: unknown;
}

export class DetourError extends Error {
  readonly kind: ErrorKind;
  readonly code: DetourErrorCode;
  readonly status: number | undefined;
  readonly target: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly param: string | undefined;
  readonly upstreamBody: unknown;
  readonly upstreamType: string | undefined;

  constructor(init: DetourErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'DetourError';
    this.kind = init.kind;
    this.code = init.code;
    this.status = init.status;
    this.target = init.target;
    this.retryAfterMs = init.retryAfterMs;
    this.param = init.param;
    this.upstreamBody = init.upstreamBody;
    this.upstreamType = init.upstreamType;
  }

  /** Whether this error came from the client's request rather than from an upstream. */
  get isClientError(): boolean {
    return this.kind === 'fatal';
  }
}

/** A fatal error about the client's request: never retried, never sent upstream. */
export function invalidRequest(message: string, param?: string, code: DetourErrorCode = 'INVALID_REQUEST', status = 400): DetourError {
  return new DetourError({ kind: 'fatal', code, message, status, param });
}

/**
 * The default classification of an upstream HTTP status. Adapters refine it from the body
 * (a 400 that means a bad key, a 429 that means a spent quota, a context-length 400).
 */
export function classifyStatus(status: number): { kind: ErrorKind; code: DetourErrorCode } {
  if (status === 429) return { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED' };
  if (status === 529 || status === 503) return { kind: 'retryable', code: 'UPSTREAM_OVERLOADED' };
  if (status >= 500) return { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' };
  if (status === 408 || status === 409) return { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' };
  if (status === 401) return { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' };
  if (status === 402) return { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' };
  if (status === 403) return { kind: 'failover', code: 'UPSTREAM_PERMISSION_DENIED' };
  if (status === 404) return { kind: 'failover', code: 'UPSTREAM_MODEL_NOT_FOUND' };
  if (status >= 400) return { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' };
  return { kind: 'retryable', code: 'UPSTREAM_BAD_RESPONSE' };
}

const connectCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const resetCodes = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ETIMEDOUT']);

/** Classifies a transport-level failure (no HTTP status) by its system or undici code. */
export function classifyTransportError(error: unknown, target: string): DetourError {
  const code = errorCode(error);
  if (code !== undefined && connectCodes.has(code)) {
    return new DetourError({ kind: 'retryable', code: 'UPSTREAM_CONNECT_FAILED', message: `could not connect to ${target} (${code})`, target, cause: error });
  }
  if (code !== undefined && resetCodes.has(code)) {
    return new DetourError({ kind: 'retryable', code: 'UPSTREAM_CONNECTION_RESET', message: `connection to ${target} was reset (${code})`, target, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DetourError({ kind: 'retryable', code: 'UPSTREAM_CONNECTION_RESET', message: `upstream ${target} failed: ${message}`, target, cause: error });
}

function errorCode(error: unknown): string | undefined {
  // undici wraps the system error: the code may be on the error or on its cause.
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_REQ_RETRY') {
      if (connectCodes.has(code) || resetCodes.has(code)) return code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  const top = (error as { code?: unknown } | null)?.code;
  return typeof top === 'string' ? top : undefined;
}
