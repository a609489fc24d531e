import { DetourError, classifyTransportError, type DetourErrorCode } from '../core/errors.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import type { Target } from '../core/settings.js';
import { SseEventTooLarge, SseParser } from '../providers/shared/sse.js';
import type { ProviderAdapter, SseEvent, UpstreamRequest } from '../providers/types.js';
import type { EmbeddingsRequest } from '../providers/embeddings/index.js';
import { emptyPiece, isEmptyPiece, joinPieces, type StreamPiece, type StreamProcessor } from './stream-processor.js';
import type { StreamWatch } from './stream-watch.js';
import { checkAnswer, type CheckedAnswer } from './upstream-answer.js';
import { badResponse, bodyChunks, decodedBody, readBoundedBody } from './upstream-body.js';
import type { UpstreamHttp, UpstreamResponse } from './upstream-http.js';
import { AttemptAbort, type AttemptCancel } from './attempt-abort.js';
import type { AbortSource } from '../core/abort-source.js';
import type { CallWait } from '../core/slow-calls.js';
import type { SlowCallWatch } from './slow-call-watch.js';

/** How an attempt takes part in slow-call detection (`slow-call-watch.ts`). */
export interface AttemptSlowCalls {
  watch: SlowCallWatch;
  /** Whether moving this call on from `wait` helps now: another target could take it. */
  canMoveOn(wait: CallWait): boolean;
  /** A stream ended well: the longest silence between two of its events, a sample of what the target's streams normally do. */
  onStreamGap(longestGapMs: number): void;
}

export interface AttemptInput {
  target: Target;
  adapter: ProviderAdapter;
  upstream: UpstreamRequest;
  stream: boolean;
  /** Bounds the attempt until its response starts: its headers, or a stream's first token. */
  attemptTimeoutMs: number;
  firstTokenTimeoutMs: number;
  /** Once a stream flows: the longest silence between two events. */
  idleTimeoutMs: number;
  /** The request's deadline, left from now: bounds the whole attempt, a flowing stream included. */
  deadlineMs: number;
  clientSignal: AbortSource;
  /** Calls the attempt off as if its client had left (a hedge's losing side). */
  cancel?: AttemptCancel | undefined;
  http: UpstreamHttp;
  clock: Clock;
  timers: Timers;
  createProcessor(): StreamProcessor;
  /** Keeps what the stream said (for a continuation) and checks its pace; absent, nothing is kept or checked. */
  watch?: StreamWatch | undefined;
  /** An embeddings call: the answer is checked as its vectors, not as a chat answer. */
  embeddings?: EmbeddingsRequest | undefined;
  /** Watches this call for slowness shared with the target's other calls; absent, only its own limits bound it. */
  slowCalls?: AttemptSlowCalls | undefined;
  /** Hears the upstream's status and headers as soon as they arrive (the rate-limit headers are learnt from them). */
  onResponse?: ((status: number, headers: Readonly<Record<string, string | string[] | undefined>>) => void) | undefined;
}

export type AttemptSuccess =
  /** `answer` is the body parsed once and checked to be an answer in the adapter's format. */
  | { type: 'body'; status: number; body: Buffer; answer: CheckedAnswer }
  /** A stream whose first event has arrived: `head` is the client's first piece, `live` the rest. */
  | { type: 'stream'; status: number; head: StreamPiece; live: LiveStream };

/** Aborts the upstream call with a classified reason, so that whatever undici throws maps back to it. */
/** What the client was left without when a wait of this code ended. */
function missingOf(code: DetourErrorCode): string {
  if (code === 'UPSTREAM_FIRST_BYTE_TIMEOUT') return 'no first token';
  if (code === 'UPSTREAM_STREAM_IDLE_TIMEOUT') return 'the stream stalled';
  if (code === 'DEADLINE_EXCEEDED') return "the request's deadline passed; no complete answer";
  return 'no response';
}

function timeoutError(code: DetourErrorCode, target: Target, ms: number, detail = `within ${ms} ms`): DetourError {
  return new DetourError({ kind: 'retryable', code, target: target.id, message: `${target.id}: ${missingOf(code)} ${detail}` });
}

/** The timeout code that ends each kind of wait. */
const codeOfWait = { first_token: 'UPSTREAM_FIRST_BYTE_TIMEOUT', next_event: 'UPSTREAM_STREAM_IDLE_TIMEOUT', answer: 'UPSTREAM_ATTEMPT_TIMEOUT' } as const satisfies Record<CallWait['kind'], DetourErrorCode>;

export function clientClosedError(): DetourError {
  return new DetourError({ kind: 'fatal', code: 'CLIENT_CLOSED', status: 499, message: 'the client closed the connection' });
}

/** Why a request's signal fired: the classified reason its transport gave (a shutdown), or the client leaving. */
export function abortReason(signal: AbortSource): DetourError {
  const reason: unknown = signal.reason;
  return reason instanceof DetourError ? reason : clientClosedError();
}

/** The limits one attempt runs under; each is a time on the clock, `Infinity` when it does not apply. */
interface Limits {
  /** Until the response starts: the attempt timeout, or the deadline if sooner. */
  responseBy: number;
  responseCode: 'UPSTREAM_ATTEMPT_TIMEOUT' | 'DEADLINE_EXCEEDED';
  responseMs: number;
  /** A stream's first token, measured from the attempt's start. */
  firstTokenBy: number;
  /** The request's deadline: bounds the whole attempt, a flowing stream included. */
  deadlineAt: number;
}

/**
 * Guards one upstream call: its limits, its abort and the client's disconnect. Until the
 * response starts, the attempt timeout (or the deadline, if sooner) and a stream's first-token
 * timeout bound it; once it has started, only the request's deadline and a stream's idle
 * timeout do, so a healthy long stream is bounded by nothing else.
 *
 * One timer stands for all of them: it is armed for the nearest limit, and when it fires it
 * either aborts (a limit has passed) or re-arms itself for the nearest one left. Most attempts
 * end long before any limit, so most set one timer and clear it; none re-arms per event (an
 * event only notes its time, and the idle limit is read from that when the timer fires).
 */
class AttemptGuard {
  readonly signal = new AttemptAbort();
  private timer: TimerHandle | undefined;
  /** When the armed timer fires. */
  private timerAt = Infinity;
  private readonly limits: Limits;
  private isStarted = false;
  /** Once a stream flows: the longest silence between two events, and when the last one came. */
  private idleMs = Infinity;
  private lastEventAt = 0;
  /** The longest silence between two events so far: what this stream tells slow-call detection if it ends well. */
  private longestGapMs = 0;
  private isReleased = false;
  private readonly unwatch: (() => void) | undefined;
  private readonly onClientAbort = (): void => this.abort(abortReason(this.input.clientSignal));
  private readonly onTimer = (): void => this.check();

  constructor(
    private readonly input: AttemptInput,
    private readonly startedAt: number,
  ) {
    if (input.clientSignal.aborted) this.signal.abort(abortReason(input.clientSignal));
    else input.clientSignal.addEventListener('abort', this.onClientAbort, { once: true });
    input.cancel?.attach(() => this.abort(clientClosedError()));
    const isDeadlineFirst = input.deadlineMs < input.attemptTimeoutMs;
    this.limits = {
      responseBy: startedAt + (isDeadlineFirst ? input.deadlineMs : input.attemptTimeoutMs),
      responseCode: isDeadlineFirst ? 'DEADLINE_EXCEEDED' : 'UPSTREAM_ATTEMPT_TIMEOUT',
      responseMs: isDeadlineFirst ? input.deadlineMs : input.attemptTimeoutMs,
      // A stream's first token is awaited from the attempt's start: an upstream that never sends its headers is just as silent.
      firstTokenBy: input.stream ? startedAt + input.firstTokenTimeoutMs : Infinity,
      deadlineAt: startedAt + input.deadlineMs,
    };
    this.arm(this.startedAt);
    this.unwatch = input.slowCalls?.watch.add(input.target.id, this);
  }

  /** What this call waits for now, for slow-call detection. */
  wait(now: number): CallWait | undefined {
    if (this.isReleased || this.signal.aborted) return undefined;
    const { input } = this;
    if (!this.isStarted) {
      return input.stream
        ? { kind: 'first_token', waitedMs: now - this.startedAt, timeoutMs: Math.min(input.firstTokenTimeoutMs, this.limits.responseMs) }
        : { kind: 'answer', waitedMs: now - this.startedAt, timeoutMs: this.limits.responseMs };
    }
    if (this.idleMs === Infinity) return undefined;
    return { kind: 'next_event', waitedMs: now - this.lastEventAt, timeoutMs: this.idleMs };
  }

  canMoveOn(wait: CallWait): boolean {
    return this.input.slowCalls?.canMoveOn(wait) ?? false;
  }

  /** Ends the wait as a timeout of its kind: the target is slow for several calls at once. */
  cut(wait: CallWait, limitMs: number, others: number): void {
    const detail = `after ${Math.round(wait.waitedMs)} ms, past its slow-call limit of ${limitMs} ms (${others} other call${others === 1 ? '' : 's'} to it as slow at once)`;
    this.abort(timeoutError(codeOfWait[wait.kind], this.input.target, limitMs, detail));
  }

  abort(reason: DetourError): void {
    this.signal.abort(reason);
  }

  /** The response has started (headers, or a stream's first token): from now on only the deadline bounds the attempt as a whole. */
  responseStarted(): void {
    this.isStarted = true;
  }

  /** A stream flows: from now on a silence longer than `ms` between two events ends it. */
  startIdleWatch(ms: number): void {
    this.idleMs = ms;
    this.lastEventAt = this.input.clock.now();
    this.arm(this.lastEventAt);
  }

  /** An event arrived: the idle limit moves on (read when the timer fires; nothing is re-armed now). */
  touch(): void {
    if (this.idleMs === Infinity) return;
    const now = this.input.clock.now();
    if (now - this.lastEventAt > this.longestGapMs) this.longestGapMs = now - this.lastEventAt;
    this.lastEventAt = now;
  }

  /** The nearest limit still ahead, and what passing it means. */
  private nearest(): { at: number; error: () => DetourError } {
    const { limits, input } = this;
    let at = limits.deadlineAt;
    let error = (): DetourError => timeoutError('DEADLINE_EXCEEDED', input.target, input.deadlineMs);
    if (!this.isStarted) {
      // Ties go to the attempt timeout (or the deadline), then the first token, as they always have.
      if (limits.responseBy <= at) {
        at = limits.responseBy;
        error = () => timeoutError(limits.responseCode, input.target, limits.responseMs);
      }
      if (limits.firstTokenBy < at) {
        at = limits.firstTokenBy;
        error = () => timeoutError('UPSTREAM_FIRST_BYTE_TIMEOUT', input.target, input.firstTokenTimeoutMs);
      }
    } else if (this.idleMs !== Infinity && this.lastEventAt + this.idleMs < at) {
      at = this.lastEventAt + this.idleMs;
      error = () => timeoutError('UPSTREAM_STREAM_IDLE_TIMEOUT', input.target, this.idleMs);
    }
    return { at, error };
  }

  /** Makes sure the timer fires no later than the nearest limit. */
  private arm(now: number): void {
    if (this.isReleased) return;
    const { at } = this.nearest();
    if (at >= this.timerAt) return;
    this.timer?.clear();
    this.timerAt = at;
    this.timer = this.input.timers.setTimeout(this.onTimer, Math.max(0, at - now));
  }

  private check(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.isReleased || this.signal.aborted) return;
    const now = this.input.clock.now();
    const { at, error } = this.nearest();
    if (at <= now) this.abort(error());
    else this.arm(now);
  }

  /** The classified reason for a failure: ours if we aborted, else the transport's. */
  explain(error: unknown): DetourError {
    const reason: unknown = this.signal.reason;
    if (this.signal.aborted && reason instanceof DetourError) return reason;
    if (error instanceof DetourError) return error;
    return classifyTransportError(error, this.input.target.id);
  }

  /** Ends the guard; `hasStreamEnded` when a stream was read to its end, which makes its pauses a sample of the target's norm. */
  release(hasStreamEnded = false): void {
    if (this.isReleased) return;
    this.isReleased = true;
    this.timer?.clear();
    this.timer = undefined;
    this.input.clientSignal.removeEventListener('abort', this.onClientAbort);
    this.unwatch?.();
    if (hasStreamEnded && this.idleMs !== Infinity && !this.signal.aborted) this.input.slowCalls?.onStreamGap(this.longestGapMs);
  }
}

/**
 * Makes one upstream call. Resolves once the answer is whole (non-streaming) or once the first
 * event has arrived (streaming): until then any failure is a classified DetourError the attempt
 * loop may still recover from invisibly.
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptSuccess> {
  const guard = new AttemptGuard(input, input.clock.now());
  let response: UpstreamResponse | undefined;
  try {
    if (!input.stream) return await readWhole(input, guard);
    response = await input.http.send(input.upstream, guard.signal);
    input.onResponse?.(response.statusCode, response.headers);
    if (response.statusCode >= 400) {
      const text = (await readBoundedBody(decodedBody(response, input.target.id), input.http.limits.maxBodyBytes, input.target.id)).toString('utf8');
      throw input.adapter.classifyError(response.statusCode, response.headers, text, input.target, input.clock.now());
    }
    refuseNonAnswer(input, response.statusCode);
    const live = new LiveStream(input, guard, response);
    const head = await live.readHead();
    guard.responseStarted();
    guard.startIdleWatch(input.idleTimeoutMs);
    return { type: 'stream', status: response.statusCode, head, live };
  } catch (error) {
    const classified = asTargetsBadAnswer(guard.explain(error));
    guard.abort(classified);
    guard.release();
    response?.body.destroy();
    throw classified;
  }
}

/** A non-streaming call: the answer read whole off the dispatch (`whole-answer.ts`), then checked once. */
async function readWhole(input: AttemptInput, guard: AttemptGuard): Promise<AttemptSuccess> {
  const whole = await input.http.sendWhole(input.upstream, guard.signal, input.target.id, (status, headers) => {
    input.onResponse?.(status, headers);
    // The answer has started: reading its body is bounded by the deadline, not the attempt timeout.
    if (isAnswerStatus(status)) guard.responseStarted();
  });
  if (whole.statusCode >= 400) throw input.adapter.classifyError(whole.statusCode, whole.headers, whole.body.toString('utf8'), input.target, input.clock.now());
  refuseNonAnswer(input, whole.statusCode);
  const answer = checkAnswer(input.adapter, whole.body, input.target, input.embeddings);
  guard.release();
  return { type: 'body', status: whole.statusCode, body: whole.body, answer };
}

function isAnswerStatus(status: number): boolean {
  return status >= 200 && status < 300 && status !== 204;
}

/** A redirect (never followed: it could send the key elsewhere), a 1xx or 204 is not an answer. */
function refuseNonAnswer(input: AttemptInput, status: number): void {
  if (!isAnswerStatus(status)) throw badResponse(input.target.id, `answered ${status} instead of an answer`);
}

/**
 * A 200 that is no answer is the target's, whether it came whole or as a stream's first events
 * (HTML instead of events, an event that is not the format's, nothing at all): another target
 * answers, not the same one again. Stream parsers call such events retryable, which is right
 * once the stream flows (a continuation decides then), not before its head.
 */
function asTargetsBadAnswer(error: DetourError): DetourError {
  if (error.code !== 'UPSTREAM_BAD_RESPONSE' || error.kind !== 'retryable') return error;
  return new DetourError({ kind: 'failover', code: error.code, status: error.status ?? 502, target: error.target, message: error.message, cause: error.cause, upstreamBody: error.upstreamBody, upstreamType: error.upstreamType });
}

/** The part of a stream after its first event, read as the client consumes it. */
export class LiveStream {
  readonly processor: StreamProcessor;
  private readonly parser: SseParser;
  private readonly iterator: AsyncIterator<Buffer>;
  private isClosed = false;
  private isEnded = false;
  private isDraining = false;

  constructor(
    private readonly input: AttemptInput,
    private readonly guard: AttemptGuard,
    private readonly response: UpstreamResponse,
  ) {
    this.processor = input.createProcessor();
    this.parser = new SseParser(input.http.limits.maxEventBytes);
    this.iterator = bodyChunks(response, input.target.id);
  }

  /** Events of one network chunk; an oversized event is this target's bad answer. */
  private parse(chunk: Buffer): SseEvent[] {
    try {
      return this.parser.feed(chunk);
    } catch (error) {
      if (error instanceof SseEventTooLarge) throw badResponse(this.input.target.id, `sent a stream event larger than ${error.limit} bytes`);
      throw error;
    }
  }

  /** What this stream's watch kept and measured, if it has one. */
  get watch(): StreamWatch | undefined {
    return this.input.watch;
  }

  /**
   * Processes a batch of events. With a watch, one event at a time, so that a failure inside the
   * batch still delivers (and keeps) what came before it; the failure is returned, not thrown.
   */
  private feed(events: readonly SseEvent[]): { out: StreamPiece; error?: unknown } {
    const watch = this.input.watch;
    if (!watch) return { out: this.processor.process(events) };
    let out = emptyPiece;
    for (const event of events) {
      try {
        out = joinPieces(out, this.processor.process([event]));
      } catch (error) {
        return { out, error };
      }
      watch.kept(event);
    }
    const slow = events.length > 0 ? watch.checkPace(this.input.clock.now()) : undefined;
    return slow ? { out, error: slow } : { out };
  }

  /** Reads until the processor has something for the client. */
  async readHead(): Promise<StreamPiece> {
    for (;;) {
      const next = await this.iterator.next();
      if (next.done) {
        const { out, error } = this.feed(this.parser.flush());
        if (error) throw error;
        if (!isEmptyPiece(out) || this.processor.isDone) return joinPieces(out, this.finish());
        throw new DetourError({ kind: 'retryable', code: 'UPSTREAM_BAD_RESPONSE', target: this.input.target.id, message: `${this.input.target.id} ended its stream without sending anything` });
      }
      const { out, error } = this.feed(this.parse(next.value));
      if (error) throw error;
      // A processor may hold a short answer to its end (a continuation does): the end marker ends the head too.
      if (this.processor.isTerminal) return joinPieces(out, this.finish());
      // A tool call held back has started the stream, though nothing goes out yet: its first token came.
      if (!isEmptyPiece(out) || this.processor.isHolding) return out;
    }
  }

  /**
   * The rest of the client's pieces, read to the upstream's own end: events after the finish
   * reason still matter (OpenAI's usage chunk follows it). Throws a classified DetourError when
   * the stream fails before the answer is complete; the caller turns that into an error event
   * or a continuation.
   */
  async *rest(): AsyncGenerator<StreamPiece> {
    // The whole stream came with its first event: only the body's end is left to read, and the client need not wait for it.
    if (this.isEnded) {
      this.drainInBackground();
      return;
    }
    try {
      while (!this.isEnded) {
        const next = await this.iterator.next();
        this.guard.touch();
        const fed = this.feed(next.done ? this.parser.flush() : this.parse(next.value));
        let out = fed.out;
        if (fed.error !== undefined) {
          if (!isEmptyPiece(out)) yield out;
          throw fed.error;
        }
        if (next.done) out = joinPieces(out, this.finish());
        // The end marker is the end, whether or not the upstream closes its connection now.
        const isTerminal = !next.done && this.processor.isTerminal;
        if (isTerminal) out = joinPieces(out, this.finish());
        if (!isEmptyPiece(out)) yield out;
        if (isTerminal) this.drainInBackground();
      }
    } catch (error) {
      // The answer was already whole: a connection that misbehaves after it changes nothing for the client.
      if (this.processor.isDone && !this.isEnded) {
        yield this.finish();
        return;
      }
      throw this.guard.explain(error);
    }
  }

  /**
   * After the end marker, gives the upstream a moment to end its body, so that its connection
   * goes back to the pool, and then lets the body go (one kept open past that is cut). The
   * client's stream ends at once: it has the whole answer, and waiting for the upstream's end
   * would cost it a turn of I/O and a socket write of its own.
   */
  private drainInBackground(): void {
    if (this.isDraining) return;
    this.isDraining = true;
    void this.drainBriefly().finally(() => this.response.body.destroy());
  }

  private async drainBriefly(): Promise<void> {
    let timer: TimerHandle | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = this.input.timers.setTimeout(() => resolve('late'), 50)));
    try {
      for (;;) {
        const next = await Promise.race([this.iterator.next(), deadline]);
        if (next === 'late' || next.done) return;
      }
    } catch {
      // A connection that fails after the answer is whole changes nothing for the client.
    } finally {
      timer?.clear();
    }
  }

  /** The stream's closing piece, once. */
  private finish(): StreamPiece {
    if (this.isEnded) return emptyPiece;
    this.isEnded = true;
    return this.processor.end();
  }

  /** Stops the upstream call (idempotent): the client left, or the stream is over. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.guard.release(this.isEnded);
    if (!this.isEnded) this.guard.abort(clientClosedError());
    // A body being drained is let go by its drain, once its connection is back in the pool.
    if (!this.isDraining) this.response.body.destroy();
  }
}
