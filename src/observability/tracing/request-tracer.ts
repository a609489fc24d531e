import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace, type Attributes, type Context, type HrTime } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import type { Clock } from '../../core/clock.js';
import type { AnswerFacts, AttemptRecord, AttemptSpan, EventBus, RequestFinishedEvent, Usage } from '../../core/events.js';
import { isSampled, type TraceContext } from '../../core/trace-context.js';
import type { Logger } from '../logger.js';
import { genAi, operationOf, providerNameOf, requestParamsOf, serverOf } from './genai-attributes.js';
import type { SpanSink } from './span-sink.js';

/** What the tracer knows of a provider, by its config name. */
export interface ProviderFacts {
  type: string;
  baseUrl: string;
}

export interface RequestTracerDeps {
  events: EventBus;
  sink: SpanSink;
  clock: Clock;
  logger: Logger;
  /** The provider named in an attempt record (the serving engine's: a reload may change it). */
  providerOf(name: string): ProviderFacts | undefined;
}

/** One upstream call waiting for its request to finish, when its span is built. */
interface HeldAttempt {
  span: AttemptSpan;
  record: AttemptRecord;
  isSuccess: boolean;
  /** A stream that broke after its start and was continued elsewhere: when, and why. */
  brokeAt?: number | undefined;
  brokeWith?: string | undefined;
}

interface HeldRequest {
  heldAt: number;
  attempts: HeldAttempt[];
}

type Queued =
  | { type: 'attempt'; requestId: string; held: HeldAttempt }
  | { type: 'continued'; requestId: string; from: string; to: string; code: string; at: number }
  | { type: 'finished'; event: RequestFinishedEvent };

/** Events waiting for the next turn; past this (a stalled event loop) they are dropped, and counted. */
const maxQueued = 50_000;
/** Requests whose attempts are held; a request past this is not traced. */
const maxHeld = 20_000;
/** An attempt whose request never finished (an engine that threw) is let go after this. */
const maxHoldMs = 15 * 60_000;

/**
 * Turns the engine's events into spans, off the request path: listeners only queue (and only when
 * the request is traced), a later turn builds the spans. A request's span (SERVER) and one span per
 * upstream call (CLIENT, its child, with the id its `traceparent` carried) are built when the
 * request finishes, so that the served call carries the answer's usage, model and finish reasons,
 * and a stream's call lasts as long as the stream. Attributes follow the GenAI conventions plus
 * Detour's own (`detour.*`); never a prompt, an answer or a key.
 */
export class RequestTracer {
  private queue: Queued[] = [];
  private isScheduled = false;
  private readonly held = new Map<string, HeldRequest>();
  private dropped = 0;
  private readonly stops: Array<() => void>;

  constructor(private readonly deps: RequestTracerDeps) {
    const events = deps.events;
    const onAttempt = (isSuccess: boolean) => (event: { requestId: string; record: AttemptRecord; span?: AttemptSpan | undefined }) => {
      if (event.span && isSampled(event.span.trace)) this.enqueue({ type: 'attempt', requestId: event.requestId, held: { span: event.span, record: event.record, isSuccess } });
    };
    this.stops = [
      events.on('attempt.succeeded', onAttempt(true)),
      events.on('attempt.failed', onAttempt(false)),
      events.on('stream.continued', (event) => this.enqueue({ type: 'continued', requestId: event.requestId, from: event.from, to: event.to, code: event.code, at: deps.clock.now() })),
      events.on('request.finished', (event) => {
        if (event.trace?.spanId !== undefined && isSampled(event.trace)) this.enqueue({ type: 'finished', event });
      }),
    ];
  }

  /** Builds the spans of everything queued now (tests, shutdown). */
  drain(): void {
    const batch = this.queue;
    this.queue = [];
    this.isScheduled = false;
    for (const item of batch) {
      try {
        this.process(item);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'telemetry: building a span failed');
      }
    }
    this.letGoOfStale();
    if (this.dropped > 0) {
      this.deps.logger.warn({ dropped: this.dropped }, 'telemetry: the event loop fell behind; some requests were not traced');
      this.dropped = 0;
    }
  }

  /** Stops listening; what is queued is built first. */
  close(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.drain();
  }

  private enqueue(item: Queued): void {
    if (this.queue.length >= maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push(item);
    if (!this.isScheduled) {
      this.isScheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private process(item: Queued): void {
    if (item.type === 'attempt') {
      let request = this.held.get(item.requestId);
      if (!request) {
        if (this.held.size >= maxHeld) return;
        request = { heldAt: this.deps.clock.now(), attempts: [] };
        this.held.set(item.requestId, request);
      }
      request.attempts.push(item.held);
      return;
    }
    if (item.type === 'continued') {
      const attempts = this.held.get(item.requestId)?.attempts ?? [];
      const broken = attempts.findLast((attempt) => attempt.isSuccess && attempt.record.target === item.from && attempt.brokeAt === undefined);
      // The broken stream ended when its continuation was sent (the event itself follows the continuation's first token).
      const continuation = attempts.findLast((attempt) => attempt.record.role === 'continuation' && attempt.record.target === item.to);
      if (broken) Object.assign(broken, { brokeAt: Math.min(item.at, continuation?.span.startedAt ?? item.at), brokeWith: item.code });
      return;
    }
    const event = item.event;
    const attempts = this.held.get(event.requestId)?.attempts ?? [];
    this.held.delete(event.requestId);
    this.spansOf(event, attempts);
  }

  private spansOf(event: RequestFinishedEvent, attempts: readonly HeldAttempt[]): void {
    const context = event.trace as TraceContext;
    const { tracer, ids } = this.deps.sink;
    const operation = operationOf(event.format, event.isEmbeddings);
    const endedAt = event.startedAt + event.latencyMs;
    let usage: Usage | undefined;
    let answer: AnswerFacts | undefined;
    try {
      usage = event.usage();
      answer = event.answer?.();
    } catch {
      // An unreadable answer has no usage; its spans are still sent.
    }
    const served = event.target === undefined ? undefined : attempts.findLast((attempt) => attempt.isSuccess && attempt.record.target === event.target && attempt.brokeAt === undefined);
    const params = event.requestBody ? requestParamsOf(event.format, event.requestBody(), event.isEmbeddings) : {};

    const attributes: Attributes = {
      [genAi.operationName]: operation,
      [genAi.requestModel]: event.route,
      ...(event.isEmbeddings ? {} : { [genAi.requestStream]: event.stream }),
      ...params,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: event.status,
      'detour.request_id': event.requestId,
      'detour.route': event.route,
      'detour.attempts': event.attempts.length,
      'detour.failover': event.isFailover,
      'detour.degraded': event.isDegraded,
    };
    if (event.target !== undefined) attributes['detour.target'] = event.target;
    if (event.continuations) attributes['detour.continuations'] = event.continuations;
    if (event.ttftMs !== undefined && event.stream) attributes[genAi.responseTimeToFirstChunk] = event.ttftMs / 1000;
    const provider = event.provider === undefined ? undefined : this.deps.providerOf(event.provider);
    if (provider) attributes[genAi.providerName] = providerNameOf(provider.type, serverOf(provider.baseUrl)?.address);
    Object.assign(attributes, answerAttributes(usage, answer));
    if (event.errorCode !== undefined && event.status >= 400) attributes[ATTR_ERROR_TYPE] = event.errorCode;

    ids.preset(context.spanId as string, context.traceId);
    const requestSpan = tracer.startSpan(`${operation} ${event.route}`, { kind: SpanKind.SERVER, startTime: hrTimeOf(event.startedAt), attributes }, parentOf(context));
    if (event.status >= 500) requestSpan.setStatus({ code: SpanStatusCode.ERROR, message: event.errorCode });
    requestSpan.end(hrTimeOf(endedAt));

    const requestParent = trace.setSpanContext(ROOT_CONTEXT, { traceId: context.traceId, spanId: context.spanId as string, traceFlags: TraceFlags.SAMPLED, isRemote: false });
    for (const attempt of attempts) this.attemptSpan(attempt, { operation, params, requestParent, endedAt, isServed: attempt === served, usage, answer, event });
  }

  private attemptSpan(
    attempt: HeldAttempt,
    request: { operation: string; params: Attributes; requestParent: Context; endedAt: number; isServed: boolean; usage: Usage | undefined; answer: AnswerFacts | undefined; event: RequestFinishedEvent },
  ): void {
    const { record, span } = attempt;
    const provider = this.deps.providerOf(record.provider);
    const server = provider ? serverOf(provider.baseUrl) : undefined;
    const attributes: Attributes = {
      [genAi.operationName]: request.operation,
      [genAi.requestModel]: record.model,
      ...(request.event.isEmbeddings ? {} : { [genAi.requestStream]: request.event.stream }),
      ...request.params,
      'detour.route': request.event.route,
      'detour.target': record.target,
      'detour.attempt': span.attempt,
      'detour.circuit_state': span.circuit,
      'detour.failover': span.isFailover,
    };
    if (provider) attributes[genAi.providerName] = providerNameOf(provider.type, server?.address);
    if (server) Object.assign(attributes, { [ATTR_SERVER_ADDRESS]: server.address, [ATTR_SERVER_PORT]: server.port });
    if (record.role === 'hedge') attributes['detour.hedge'] = true;
    if (record.role === 'continuation') attributes['detour.continuation'] = true;
    if (record.role === 'probe') attributes['detour.recovery_probe'] = true;
    if (record.status !== undefined && record.status > 0) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = record.status;
    if (record.retryAfterMs !== undefined) attributes['detour.retry_after_ms'] = record.retryAfterMs;
    // A stream lasts past its first event: the served one until the request ended, a broken one until it broke.
    let endedAt = span.startedAt + record.durationMs;
    let errorType: string | undefined = attempt.isSuccess ? undefined : record.code;
    if (attempt.brokeAt !== undefined) {
      endedAt = attempt.brokeAt;
      errorType = attempt.brokeWith;
    } else if (request.isServed) {
      if (request.event.stream) endedAt = request.endedAt;
      // A served stream that failed later (its error event) failed with the request's code.
      if (request.event.status >= 400) errorType = request.event.errorCode;
      Object.assign(attributes, answerAttributes(request.usage, request.answer));
    }
    if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
    this.deps.sink.ids.preset(span.spanId, span.trace.traceId);
    const client = this.deps.sink.tracer.startSpan(`${request.operation} ${record.model}`, { kind: SpanKind.CLIENT, startTime: hrTimeOf(span.startedAt), attributes }, request.requestParent);
    if (errorType !== undefined) client.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
    client.end(hrTimeOf(Math.max(endedAt, span.startedAt)));
  }

  /** Attempts of requests that never finished (an engine that threw) are let go, oldest first. */
  private letGoOfStale(): void {
    const before = this.deps.clock.now() - maxHoldMs;
    for (const [requestId, request] of this.held) {
      if (request.heldAt >= before) break;
      this.held.delete(requestId);
    }
  }
}

/** The answer's model, id, finish reasons and usage, as the conventions name them. */
function answerAttributes(usage: Usage | undefined, answer: AnswerFacts | undefined): Attributes {
  const attributes: Attributes = {};
  if (answer?.model) attributes[genAi.responseModel] = answer.model;
  if (answer?.id) attributes[genAi.responseId] = answer.id;
  if (answer?.finishReasons && answer.finishReasons.length > 0) attributes[genAi.responseFinishReasons] = [...answer.finishReasons];
  if (usage) {
    attributes[genAi.usageInputTokens] = usage.prompt_tokens;
    attributes[genAi.usageOutputTokens] = usage.completion_tokens;
    const cached = usage.prompt_tokens_details?.cached_tokens;
    const reasoning = usage.completion_tokens_details?.reasoning_tokens;
    if (cached !== undefined) attributes[genAi.usageCacheReadInputTokens] = cached;
    if (reasoning !== undefined) attributes[genAi.usageReasoningOutputTokens] = reasoning;
  }
  return attributes;
}

/** The client's span as the parent of the request's, or none (a new trace). */
function parentOf(context: TraceContext): Context {
  if (context.parentSpanId === undefined) return ROOT_CONTEXT;
  let traceState;
  try {
    traceState = context.tracestate === undefined ? undefined : createTraceState(context.tracestate);
  } catch {
    traceState = undefined;
  }
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: context.traceId, spanId: context.parentSpanId, traceFlags: Number.parseInt(context.flags, 16) & 0xff, isRemote: true, traceState });
}

/** Epoch milliseconds as OpenTelemetry's [seconds, nanoseconds]: explicit, whatever the clock's origin. */
function hrTimeOf(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
