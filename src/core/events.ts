import type { BreakerOpenReason } from './breaker.js';
import type { DetourErrorCode, ErrorKind } from './errors.js';
import type { HealthStatus } from './health.js';
import type { TraceContext } from './trace-context.js';
import type { Priority } from './wait-queue.js';

/** The wire formats Detour speaks, to clients and upstreams. */
export type WireFormat = 'openai' | 'responses' | 'anthropic' | 'gemini';

/** Token counts in OpenAI's terms, whatever format the upstream used. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

/** One upstream call as the request log and the error body report it; never holds a key. */
export interface AttemptRecord {
  target: string;
  provider: string;
  model: string;
  /** HTTP status the upstream answered, when it answered. */
  status?: number | undefined;
  /** Error code when the attempt failed; absent on success. */
  code?: DetourErrorCode | undefined;
  kind?: ErrorKind | undefined;
  durationMs: number;
  /** How long the upstream asked us to wait, when it said. */
  retryAfterMs?: number | undefined;
  /**
   * Set for anything but a plain attempt: a hedge, a mirror call, a recovery probe (a request
   * that waited for its down route and was let through to probe a target), or the continuation
   * of a stream that broke after it had started.
   */
  role?: 'hedge' | 'mirror' | 'probe' | 'continuation';
}

export interface RequestFinishedEvent {
  requestId: string;
  route: string;
  format: WireFormat;
  stream: boolean;
  status: number;
  /** The target that served the answer, when one did. */
  target?: string | undefined;
  provider?: string | undefined;
  model?: string | undefined;
  attempts: readonly AttemptRecord[];
  isFailover: boolean;
  isDegraded: boolean;
  errorCode?: DetourErrorCode | undefined;
  /** Why the request failed or was refused, in words (never holds a key). */
  errorMessage?: string | undefined;
  startedAt: number;
  latencyMs: number;
  ttftMs?: number | undefined;
  /** Usage, read lazily so that a pass-through body is parsed only if someone asks, off the request path. */
  usage(): Usage | undefined;
  /**
   * The request and the answer as the client sent and got them, read lazily: only a request log
   * with `log.bodies: true` asks. A stream's answer is there only when the engine captures
   * streams (`captureStreamBodies`).
   */
  bodies(): { request?: string | undefined; response?: string | undefined };
  clientKeyId?: string | undefined;
  /** How many times the stream broke after its start and was continued on another target. */
  continuations?: number | undefined;
  /** An embeddings call (`POST /v1/embeddings`), not a chat one. */
  isEmbeddings?: boolean | undefined;
  /** The priority the client asked for (`x-detour-priority`); absent: normal. */
  priority?: Priority | undefined;
  /** How long it waited in its route's queue for room under the targets' rate limits (ms); absent when it never waited. */
  queueWaitMs?: number | undefined;
  /** The request's trace context, when it has one (the client sent a `traceparent`, or Detour records spans). */
  trace?: TraceContext | undefined;
  /** The client's validated body as a value (not a copy), read lazily: tracing reads its parameters (`max_tokens`), never its content. */
  requestBody?: (() => Readonly<Record<string, unknown>>) | undefined;
  /** What the served answer said about itself, when it is known without reading a stream again. */
  answer?: (() => AnswerFacts | undefined) | undefined;
  /** For a request refused at the door (before any route ran, or by its endpoint): where it came and who sent it. */
  rejection?: RejectionDetails | undefined;
}

/** A refused request's door: bounded labels for metrics, the path and user agent (truncated) for logs. */
export interface RejectionDetails {
  /** The HTTP method, or `other` for one outside HTTP's own. */
  method: string;
  /** The path as sent, truncated: for logs, never a metric label. */
  path: string;
  /** The served path it came to as declared (`/v1/chat/completions`, `/v1beta/models/:action`), or `other`: a bounded label. */
  endpoint: string;
  userAgent?: string | undefined;
}

/** Facts of a served answer beyond its usage; never its content. */
export interface AnswerFacts {
  /** The upstream's own id for the answer. */
  id?: string | undefined;
  /** The model that answered, as the upstream named it. */
  model?: string | undefined;
  /** One per choice, in OpenAI's terms (`stop`, `length`, `tool_calls`, `content_filter`). */
  finishReasons?: readonly string[] | undefined;
}

/**
 * Where one upstream call sits in the request's trace, on `attempt.succeeded` / `attempt.failed`
 * when Detour records spans.
 */
export interface AttemptSpan {
  /** The span id the call's `traceparent` carried. */
  spanId: string;
  trace: TraceContext;
  /** When the call started, epoch ms (the engine's clock). */
  startedAt: number;
  /** 1-based position among the request's upstream calls. */
  attempt: number;
  /** The target's circuit when the call went out: `half_open` for its probe, `open` for a recovery probe. */
  circuit: 'closed' | 'half_open' | 'open';
  /** The call went to another target than the request's first (not a hedge or a stream's continuation). */
  isFailover: boolean;
}

/** A target's circuit opened (or reopened after a failed probe). Times are epoch ms, durations ms. */
export interface CircuitOpenedEvent {
  target: string;
  reason: BreakerOpenReason;
  /** The cooldown applied; the target is skipped until `until`, then probed once. */
  cooldownMs: number;
  until: number;
  /** The window's figures when it tripped (`failure_count`, `failure_rate`). */
  failures?: number | undefined;
  requests?: number | undefined;
}

/** A target's cooldown ended and one probe request was let through. */
export interface CircuitHalfOpenedEvent {
  target: string;
  /** Who holds the probe (instance and request), to find it in the request log. */
  probe: string;
}

/** A target's circuit closed: its probe succeeded, or its health check recovered. */
export interface CircuitClosedEvent {
  target: string;
  reason: 'probe_succeeded' | 'health_recovered' | 'reset';
}

/** A target's active health check changed its verdict. */
export interface HealthChangedEvent {
  target: string;
  from: HealthStatus;
  to: HealthStatus;
  /** Why the last check failed, when it did. */
  error?: string | undefined;
}

/** One active health check was sent (probe spend shows in the metrics). */
export interface HealthProbedEvent {
  target: string;
  provider: string;
  model: string;
  mode: 'models' | 'completion';
  isHealthy: boolean;
  durationMs: number;
  /** Tokens a `completion` probe spent, when the upstream said. */
  usage?: Usage | undefined;
  error?: string | undefined;
}

/** A mirrored (shadow) call finished and was compared with the answer the client got. */
export interface MirrorComparedEvent {
  requestId: string;
  route: string;
  /** The target that served the client. */
  target: string;
  mirrorTarget: string;
  /** HTTP status of the mirror's answer (0 when it never answered). */
  status: number;
  errorCode?: DetourErrorCode | undefined;
  /** Word-set similarity of the two answers in [0, 1]; undefined when either text is unknown. */
  similarity?: number | undefined;
  /** The mirror's answer length over the served one's, in characters. */
  lengthRatio?: number | undefined;
  servedLatencyMs: number;
  mirrorLatencyMs: number;
  usage?: Usage | undefined;
  model: string;
}

/** A request found every target of its route down and waits for one to recover. */
export interface RecoveryQueuedEvent {
  requestId: string;
  route: string;
  /** The route's targets whose circuits are open. */
  targets: string[];
}

/** A request that waited for its route to recover stopped waiting. */
export interface RecoveryReleasedEvent {
  requestId: string;
  route: string;
  waitedMs: number;
  /** `recovered`: a target came back and the request went on; `gave_up`: its wait or deadline ran out; `client_gone`: the client left. */
  outcome: 'recovered' | 'gave_up' | 'client_gone';
}

/** A recovery probe (a waiting request let through to an open circuit) finished. */
export interface RecoveryProbedEvent {
  requestId: string;
  route: string;
  target: string;
  isSuccess: boolean;
  durationMs: number;
}

/** A stream broke after it had reached the client and was continued on another target. */
export interface StreamContinuedEvent {
  requestId: string;
  route: string;
  from: string;
  to: string;
  /** Why the stream broke. */
  code: DetourErrorCode;
  /** Characters of the answer the client already had, sent as the prefix. */
  keptChars: number;
  /** This stream's continuations so far, this one included. */
  count: number;
}

/** A stream broke after its start and could not be continued (a tool call's arguments, no target left); it ends with an error event. */
export interface StreamNotContinuedEvent {
  requestId: string;
  route: string;
  target: string;
  code: DetourErrorCode;
  reason: 'tool_call' | 'no_target' | 'deadline' | 'too_long' | 'limit';
}

/** Several calls to one target waited far past its norm at once (`core/slow-calls.ts`): these moved on, and its circuit opens. */
export interface CallsSlowEvent {
  target: string;
  /** Each moved call: what it waited for, how long, and the limit it passed. */
  moved: Array<{ wait: 'first_token' | 'answer' | 'next_event'; waitedMs: number; limitMs: number }>;
}

export interface EngineEvents {
  'attempt.started': { requestId: string; route: string; target: string; attempt: number };
  'attempt.failed': { requestId: string; route: string; record: AttemptRecord; message: string; span?: AttemptSpan | undefined };
  'attempt.succeeded': { requestId: string; route: string; record: AttemptRecord; span?: AttemptSpan | undefined };
  'failover.performed': { requestId: string; route: string; from: string; to: string; code: DetourErrorCode };
  'request.finished': RequestFinishedEvent;
  'circuit.opened': CircuitOpenedEvent;
  'circuit.half_opened': CircuitHalfOpenedEvent;
  'circuit.closed': CircuitClosedEvent;
  'health.changed': HealthChangedEvent;
  'health.probed': HealthProbedEvent;
  'mirror.compared': MirrorComparedEvent;
  'recovery.queued': RecoveryQueuedEvent;
  'recovery.released': RecoveryReleasedEvent;
  'recovery.probed': RecoveryProbedEvent;
  'stream.continued': StreamContinuedEvent;
  'stream.not_continued': StreamNotContinuedEvent;
  'calls.slow': CallsSlowEvent;
}

type Handler<T> = (payload: T) => void;

/**
 * A small synchronous, typed event bus. Listeners must be cheap (enqueue and return): they
 * run on the request path, and one that throws is isolated from the request.
 */
export class EventBus<Events extends object = EngineEvents> {
  private readonly handlers = new Map<keyof Events, Array<Handler<never>>>();

  on<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as Handler<never>);
    this.handlers.set(type, list);
    return () => this.off(type, handler);
  }

  off<K extends keyof Events>(type: K, handler: Handler<Events[K]>): void {
    const list = this.handlers.get(type);
    if (!list) return;
    const index = list.indexOf(handler as Handler<never>);
    if (index >= 0) list.splice(index, 1);
  }

  hasListeners(type: keyof Events): boolean {
    return (this.handlers.get(type)?.length ?? 0) > 0;
  }

  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const list = this.handlers.get(type);
    if (!list) return;
    for (const handler of list) {
      try {
        (handler as Handler<Events[K]>)(payload);
      } catch {
        // A broken listener must never fail a request.
      }
    }
  }
}
