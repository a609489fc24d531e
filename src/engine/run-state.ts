import { DetourError } from '../core/errors.js';
import type { AnswerFacts, AttemptRecord, AttemptSpan } from '../core/events.js';
import type { Target } from '../core/settings.js';
import type { ChatRequest, ErrorPayload, ProviderAdapter, Usage } from '../providers/types.js';
import { failurePiece, type StreamPiece } from './stream-processor.js';
import { clientClosedError, type AttemptSuccess, type LiveStream } from './attempt.js';
import type { LimitTicket } from './target-limits.js';
import type { EngineContext, EngineRequest } from './engine.js';
import { errorPayload, type AllFailed } from './failure.js';
import type { BodyResult, EngineResult, ServedMeta, StreamResult } from './result.js';
import type { ResolvedRoute } from './route-table.js';
import { embeddingsServed } from './embeddings-call.js';

/** What a finished run tells the engine besides its result. */
export interface RunOutcome {
  result: EngineResult;
  /** Every target failed (not the client's fault): the route may degrade. */
  isAllFailed: boolean;
  /** The served answer's text, for a mirror's comparison (non-streaming answers only). */
  servedText?: () => string | undefined;
}

/**
 * The state one request carries through its attempts, and how its outcome is written: the
 * attempt records, who served it, and the `request.finished` event (emitted exactly once).
 */
export class RunState {
  readonly attempts: AttemptRecord[];
  firstTarget: Target | undefined;
  /** How long the request waited in its route's queue for room under the targets' limits (ms). */
  queueWaitMs = 0;
  /** Served attempts' holds on their targets' limits, settled to the actual usage when the request finishes. */
  readonly limitTickets: LimitTicket[] = [];
  private canonicalRequest: ChatRequest | undefined;

  constructor(
    readonly context: EngineContext,
    readonly request: EngineRequest,
    readonly route: ResolvedRoute,
    readonly isDegraded: boolean,
    priorAttempts: readonly AttemptRecord[],
  ) {
    this.attempts = [...priorAttempts];
  }

  /** The request as canonical, translated once and only when something needs it. */
  canonical(): ChatRequest {
    this.canonicalRequest ??= this.request.toCanonical();
    return this.canonicalRequest;
  }

  record(target: Target, startedAt: number, failure?: DetourError, role?: AttemptRecord['role'], span?: { spanId: string; circuit: AttemptSpan['circuit'] }): AttemptRecord {
    const record: AttemptRecord = {
      target: target.id,
      provider: target.provider.name,
      model: target.model,
      status: failure ? failure.status : 200,
      code: failure?.code,
      kind: failure?.kind,
      retryAfterMs: failure?.retryAfterMs,
      durationMs: this.context.clock.now() - startedAt,
      ...(role ? { role } : {}),
    };
    this.attempts.push(record);
    const trace = this.request.trace;
    const base = {
      requestId: this.request.id,
      route: this.route.settings.name,
      record,
      span: span && trace ? { spanId: span.spanId, trace, startedAt, attempt: this.attempts.length, circuit: span.circuit, isFailover: this.isFailoverCall(target, role) } : undefined,
    };
    if (failure) this.context.events.emit('attempt.failed', { ...base, message: failure.message });
    else this.context.events.emit('attempt.succeeded', base);
    return record;
  }

  private isFailoverCall(target: Target, role: AttemptRecord['role']): boolean {
    return (role === undefined || role === 'probe') && this.firstTarget !== undefined && this.firstTarget !== target;
  }

  meta(target: Target | undefined): ServedMeta {
    return {
      requestId: this.request.id,
      route: this.route.settings.name,
      target,
      attempts: this.attempts,
      isFailover: target !== undefined && this.firstTarget !== undefined && target !== this.firstTarget,
      isDegraded: this.isDegraded,
    };
  }

  /**
   * A whole answer (or a stream's start) from `target`, for the gateway to encode. A stream that
   * breaks after its start is handed to `rescue`, which may continue it on another target.
   */
  succeed(adapter: ProviderAdapter, target: Target, success: AttemptSuccess, onStreamEnd: (error?: DetourError) => void, rescue?: StreamRescue): RunOutcome {
    if (success.type === 'stream') {
      const ttftMs = this.context.clock.now() - this.request.receivedAt;
      const stream: ServingStream = { target, live: success.live, onEnd: onStreamEnd };
      // Only a request log that keeps bodies wants the streamed text (the gateway fills it as it encodes); otherwise nothing is kept.
      const captured: string[] | undefined = this.context.captureStreamBodies ? [] : undefined;
      let isEnded = false;
      /** Ends the stream exactly once, however it ends: read to its end, failed, or abandoned by its reader. */
      const end = (status: number, failure?: DetourError): void => {
        if (isEnded) return;
        isEnded = true;
        stream.live.close();
        stream.onEnd(failure);
        this.finished(status, stream.target, () => stream.live.processor.usage, ttftMs, failure, captured && (() => captured.join('')), rescue?.count, () => stream.live.processor.answer);
      };
      const result: StreamResult = {
        type: 'stream',
        status: success.status,
        head: success.head,
        isPassThrough: adapter.format === this.request.format,
        rest: abandonable(this.relay(stream, end, rescue), () => end(499, clientClosedError())),
        captured,
        meta: this.meta(target),
      };
      return { result, isAllFailed: false };
    }
    if ('embeddings' in success.answer) {
      const served = embeddingsServed(success.answer.embeddings, success.body);
      const result: BodyResult = { type: 'body', status: success.status, content: served.content, headers: served.headers, meta: this.meta(target) };
      this.finished(result.status, target, served.usage, undefined, undefined, served.logged);
      return { result, isAllFailed: false };
    }
    const isPassThrough = adapter.format === this.request.format;
    let content: BodyResult['content'];
    let usage: () => Usage | undefined;
    let text: () => string | undefined;
    let logged: () => string;
    // The attempt already parsed and checked the answer: a malformed one was its failure, and recoverable.
    const { json, response } = success.answer;
    if (isPassThrough) {
      content = { kind: 'raw', bytes: success.body };
      usage = lazy(() => adapter.readUsage(json));
      text = () => contentOf(response);
      logged = () => success.body.toString('utf8');
    } else {
      content = { kind: 'canonical', response };
      usage = () => response.usage;
      text = () => contentOf(response);
      // The request log keeps a translated answer in its canonical (OpenAI Chat) shape.
      logged = () => JSON.stringify(response);
    }
    const result: BodyResult = { type: 'body', status: success.status, content, headers: {}, meta: this.meta(target) };
    this.finished(result.status, target, usage, undefined, undefined, logged, undefined, () => answerFacts(response));
    return { result, isAllFailed: false, servedText: text };
  }

  /**
   * The stream after its first event. A failure now cannot be hidden: it is continued on another
   * target when the route allows (`rescue`), else it becomes an explicit error event.
   */
  private async *relay(stream: ServingStream, end: (status: number, failure?: DetourError) => void, rescue: StreamRescue | undefined): AsyncGenerator<StreamPiece, void, undefined> {
    let isComplete = false;
    try {
      for (;;) {
        try {
          for await (const piece of stream.live.rest()) yield piece;
          break;
        } catch (error) {
          const failure = asDetourError(error, stream.target);
          const next = failure.code === 'CLIENT_CLOSED' || !rescue ? undefined : await rescue.continueAfter(failure, stream);
          if (!next) throw failure;
          // The broken attempt is over; the continuation serves the rest of the same client stream.
          stream.live.close();
          stream.onEnd(failure);
          Object.assign(stream, { target: next.target, live: next.live, onEnd: next.onEnd });
          yield { ...next.head, comment: next.comment, prime: next.prefix };
        }
      }
      isComplete = true;
      end(200);
    } catch (error) {
      const failure = asDetourError(error, stream.target);
      end(failure.code === 'CLIENT_CLOSED' ? 499 : 502, failure);
      const code = failure.code === 'UPSTREAM_STREAM_IDLE_TIMEOUT' || failure.code === 'UPSTREAM_ATTEMPT_TIMEOUT' || failure.code === 'DEADLINE_EXCEEDED' ? failure.code : 'STREAM_INTERRUPTED';
      yield failurePiece({ status: 502, code, message: `${failure.message} (after the stream had started; the answer is incomplete)` });
    } finally {
      // Left at a `yield` by its reader (the client went away): neither complete nor failed upstream.
      if (!isComplete) end(499, clientClosedError());
    }
  }

  /** The client's own error (or an upstream's 400), answered as it is. */
  answerError(error: DetourError, sameFormatTarget: boolean): RunOutcome {
    const status = error.status ?? 400;
    const content: BodyResult['content'] = sameFormatTarget && error.upstreamBody !== undefined ? { kind: 'raw', bytes: JSON.stringify(error.upstreamBody) } : { kind: 'error', error: errorPayload(error, status) };
    const result: BodyResult = { type: 'body', status, content, headers: {}, meta: this.meta(undefined) };
    this.finished(status, undefined, undefined, undefined, error);
    return { result, isAllFailed: false };
  }

  /** No target answered. `announce` is false when the engine may still degrade to another route. */
  allFailed(failure: AllFailed, announce: boolean): RunOutcome {
    const payload: ErrorPayload = errorPayload(failure.error, failure.status, { attempts: this.attempts });
    const result: BodyResult = { type: 'body', status: failure.status, content: { kind: 'error', error: payload }, headers: failure.headers, meta: this.meta(undefined) };
    if (announce) this.finished(failure.status, undefined, undefined, undefined, failure.error);
    return { result, isAllFailed: true };
  }

  finished(
    status: number,
    target: Target | undefined,
    usage: (() => Usage | undefined) | undefined,
    ttftMs: number | undefined,
    error?: Pick<DetourError, 'code' | 'message'>,
    response?: () => string,
    continuations?: number,
    answer?: () => AnswerFacts | undefined,
  ): void {
    if (this.limitTickets.length > 0) this.settleLimits(usage);
    const events = this.context.events;
    if (!events.hasListeners('request.finished')) return;
    const now = this.context.clock.now();
    events.emit('request.finished', {
      requestId: this.request.id,
      route: this.route.settings.name,
      format: this.request.format,
      stream: this.request.stream,
      status,
      target: target?.id,
      provider: target?.provider.name,
      model: target?.model,
      attempts: this.attempts,
      isFailover: target !== undefined && target !== this.firstTarget,
      isDegraded: this.isDegraded,
      errorCode: error?.code,
      errorMessage: error?.message,
      startedAt: this.request.receivedAt,
      latencyMs: now - this.request.receivedAt,
      ttftMs,
      usage: usage ?? (() => undefined),
      bodies: () => ({ request: JSON.stringify(this.request.body), response: response?.() }),
      clientKeyId: this.request.clientKeyId,
      ...(continuations ? { continuations } : {}),
      ...(this.request.embeddings ? { isEmbeddings: true } : {}),
      trace: this.request.trace,
      requestBody: () => this.request.body,
      answer,
      ...(this.request.priority ? { priority: this.request.priority } : {}),
      ...(this.queueWaitMs > 0 ? { queueWaitMs: this.queueWaitMs } : {}),
    });
  }

  /** Settles the served attempts' token reservations to what the request used, off the request path (usage may parse a body). */
  private settleLimits(usage: (() => Usage | undefined) | undefined): void {
    const tickets = this.limitTickets.splice(0);
    setImmediate(() => {
      const used = usage?.();
      const total = used ? used.prompt_tokens + used.completion_tokens : undefined;
      // The last served attempt carries the answer's usage; an earlier one (a broken stream that was continued) keeps its reservation.
      tickets.forEach((ticket, index) => this.context.limiter.settle(ticket, index === tickets.length - 1 && total !== undefined ? total : ticket.tokens));
    });
  }
}

/** The attempt that serves a stream now: the first, or the continuation that took over from it. */
export interface ServingStream {
  target: Target;
  live: LiveStream;
  /** Settles the attempt with its target's statistics and breaker. */
  onEnd: (error?: DetourError) => void;
}

/** A continuation that took over a broken stream. */
export interface Continued extends ServingStream {
  /** Its first piece. */
  head: StreamPiece;
  /** The answer the client had when the stream broke: the gateway primes a fresh client encoder with it. */
  prefix: string;
  /** An SSE comment for whoever reads the raw stream. */
  comment: string;
}

/** Continues a stream that broke after its start, when it can; undefined when it cannot or no target could. */
export interface StreamRescue {
  /** How many times the stream was continued so far. */
  readonly count: number;
  continueAfter(failure: DetourError, broken: ServingStream): Promise<Continued | undefined>;
}

/**
 * A generator whose `return()` also ends it when it was never started: a plain async
 * generator's `finally` does not run then, and the stream's cleanup lives there.
 */
function abandonable<T>(generator: AsyncGenerator<T, void, undefined>, onAbandon: () => void): AsyncGenerator<T, void, undefined> {
  let isStarted = false;
  const wrapped: AsyncGenerator<T, void, undefined> = {
    next: (...args) => {
      isStarted = true;
      return generator.next(...args);
    },
    return: (value) => {
      if (!isStarted) onAbandon();
      return generator.return(value);
    },
    throw: (error) => generator.throw(error),
    [Symbol.asyncIterator]: () => wrapped,
  };
  return wrapped;
}

export function asDetourError(error: unknown, target: Target): DetourError {
  if (error instanceof DetourError) return error;
  return new DetourError({ kind: 'retryable', code: 'INTERNAL_ERROR', target: target.id, message: error instanceof Error ? error.message : String(error), cause: error });
}

function answerFacts(response: { id?: string; model?: string; choices: Array<{ finish_reason?: string | null }> }): AnswerFacts {
  const finishReasons: string[] = [];
  for (const choice of response.choices) if (typeof choice.finish_reason === 'string') finishReasons.push(choice.finish_reason);
  return { id: response.id, model: response.model, finishReasons };
}

function contentOf(response: { choices: Array<{ message: { content: string | null } }> } | undefined): string | undefined {
  return response?.choices[0]?.message.content ?? undefined;
}

function lazy<T>(compute: () => T): () => T {
  let isDone = false;
  let value: T;
  return () => {
    if (!isDone) {
      value = compute();
      isDone = true;
    }
    return value;
  };
}
