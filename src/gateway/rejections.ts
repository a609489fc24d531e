import type { Clock } from '../core/clock.js';
import type { DetourErrorCode } from '../core/errors.js';
import type { EventBus, RejectionDetails } from '../core/events.js';
import type { TraceContext } from '../core/trace-context.js';
import type { WireFormat } from '../providers/types.js';
import { headerOf, type GatewayRequest } from './http.js';

/** What a log line or a request-log row keeps of a client's path or user agent. */
const maxShownLength = 256;

const httpMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** The label every path Detour does not serve is counted under. */
export const otherEndpoint = 'other';

/** Client text cut to a length a log line can hold (a path may be as long as the header limit). */
export function shown(text: string): string {
  return text.length > maxShownLength ? `${text.slice(0, maxShownLength)}…` : text;
}

/**
 * Where a refused request came and who sent it: the method bounded to HTTP's own, the served
 * path it matched as declared (or `other`), and, for logs only, the path and user agent as sent.
 */
export function doorOf(request: Pick<GatewayRequest, 'method' | 'path' | 'headers'>, pattern: string | undefined): RejectionDetails {
  const userAgent = headerOf(request as GatewayRequest, 'user-agent');
  return {
    method: httpMethods.has(request.method) ? request.method : otherEndpoint,
    path: shown(request.path),
    endpoint: pattern ?? otherEndpoint,
    ...(userAgent === undefined ? {} : { userAgent: shown(userAgent) }),
  };
}

export interface RejectedRequest {
  requestId: string;
  format: WireFormat;
  status: number;
  code: DetourErrorCode;
  message: string;
  receivedAt: number;
  door?: RejectionDetails | undefined;
  clientKeyId?: string | undefined;
  /** The request's trace context: a refused request is a span too. */
  trace?: TraceContext | undefined;
}

/**
 * Tells observability about a request refused before any upstream (an unknown path, bad JSON, a
 * key turned away), so that the request log, the metrics and the JSON log count every request.
 * The route is not named: a client's invented model names must not become metric labels.
 */
export function announceRejection(events: EventBus, clock: Clock, rejected: RejectedRequest): void {
  if (!events.hasListeners('request.finished')) return;
  events.emit('request.finished', {
    requestId: rejected.requestId,
    route: '(rejected)',
    format: rejected.format,
    stream: false,
    status: rejected.status,
    attempts: [],
    isFailover: false,
    isDegraded: false,
    errorCode: rejected.code,
    errorMessage: rejected.message,
    startedAt: rejected.receivedAt,
    latencyMs: clock.now() - rejected.receivedAt,
    usage: () => undefined,
    bodies: () => ({}),
    clientKeyId: rejected.clientKeyId,
    trace: rejected.trace,
    rejection: rejected.door,
  });
}
