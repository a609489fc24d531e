import { decideNextStep } from '../core/attempt-decision.js';
import { Deadline } from '../core/deadline.js';
import { DetourError } from '../core/errors.js';
import type { Target } from '../core/settings.js';
import type { ChatRequest, ErrorPayload, ProviderAdapter, UpstreamRequest, Usage } from '../providers/types.js';
import { tryParseJson } from '../providers/shared/json.js';
import { clientClosedError, runAttempt, type AttemptSuccess, type LiveStream } from './attempt.js';
import type { EngineContext, EngineRequest } from './engine.js';
import type { AttemptRecord } from '../core/events.js';
import { allFailedError, errorPayload } from './failure.js';
import type { BodyResult, EngineResult, ServedMeta, StreamResult } from './result.js';
import type { ResolvedRoute } from './route-table.js';
import { PassThroughProcessor, TranslatingProcessor, type StreamProcessor } from './stream-processor.js';

/** One client request's walk through its candidates: attempts, retries, failover. */
export class RequestRun {
  private readonly attempts: AttemptRecord[] = [];
  private readonly deadline: Deadline;
  private canonical: ChatRequest | undefined;
  private firstTarget: Target | undefined;

  constructor(
    private readonly context: EngineContext,
    private readonly request: EngineRequest,
    private readonly route: ResolvedRoute,
    private readonly candidates: readonly Target[],
  ) {
    this.deadline = new Deadline(context.clock, route.settings.timeoutMs);
  }

  async execute(): Promise<EngineResult> {
    const settings = this.route.settings;
    let lastError: DetourError | undefined;
    let previous: Target | undefined;
    for (let index = 0; index < this.candidates.length; index++) {
      const target = this.candidates[index] as Target;
      const adapter = this.context.adapters[target.provider.type];
      if (!adapter) continue;
      let upstream: UpstreamRequest;
      try {
        upstream = this.buildUpstream(adapter, target);
      } catch (error) {
        // A feature this target cannot express: skip it, or answer if it is the client's fault.
        lastError = asDetourError(error, target);
        if (lastError.kind === 'fatal') return this.answerError(lastError);
        continue;
      }
      for (let attemptNumber = 1; ; attemptNumber++) {
        if (this.request.signal.aborted) throw clientClosedError();
        const remainingMs = this.deadline.remainingMs();
        if (remainingMs < this.context.minAttemptMs) return this.finishFailed(lastError, true);
        if (attemptNumber === 1) {
          if (previous && lastError) {
            this.context.events.emit('failover.performed', { requestId: this.request.id, route: settings.name, from: previous.id, to: target.id, code: lastError.code });
          }
          this.firstTarget ??= target;
        }
        this.context.events.emit('attempt.started', { requestId: this.request.id, route: settings.name, target: target.id, attempt: this.attempts.length + 1 });
        const startedAt = this.context.clock.now();
        try {
          const success = await runAttempt({
            target,
            adapter,
            upstream,
            stream: this.request.stream,
            attemptTimeoutMs: Math.min(settings.attemptTimeoutMs, remainingMs),
            firstTokenTimeoutMs: Math.min(settings.firstTokenTimeoutMs, remainingMs),
            idleTimeoutMs: settings.streamIdleTimeoutMs,
            clientSignal: this.request.signal,
            http: this.context.http,
            clock: this.context.clock,
            createProcessor: () => this.createProcessor(adapter, target),
          });
          return this.succeed(adapter, target, success, startedAt);
        } catch (error) {
          const failure = asDetourError(error, target);
          if (failure.code === 'CLIENT_CLOSED') throw failure;
          this.record(target, startedAt, failure);
          lastError = failure;
          const step = decideNextStep(failure, {
            attemptsOnTarget: attemptNumber,
            policy: settings.retry,
            remainingMs: this.deadline.remainingMs(),
            minAttemptMs: this.context.minAttemptMs,
            hasNextTarget: index < this.candidates.length - 1,
            retryAllowed: true,
            random: this.context.random,
          });
          if (step.action === 'answer') return this.answerError(failure);
          if (step.action === 'failover') break;
          try {
            await this.context.wait(step.delayMs, this.request.signal);
          } catch {
            throw clientClosedError();
          }
        }
      }
      previous = target;
    }
    return this.finishFailed(lastError, this.deadline.remainingMs() < this.context.minAttemptMs);
  }

  private buildUpstream(adapter: ProviderAdapter, target: Target): UpstreamRequest {
    const options = { stream: this.request.stream, wantStreamUsage: true };
    if (adapter.format === this.request.codec.format) return adapter.buildPassThroughRequest(this.request.body, target, options);
    this.canonical ??= this.request.codec.toCanonical(this.request.body);
    return adapter.buildRequest(this.canonical, target, options);
  }

  private createProcessor(adapter: ProviderAdapter, target: Target): StreamProcessor {
    const codec = this.request.codec;
    if (adapter.format === codec.format) return new PassThroughProcessor(adapter, target, this.request.wantsUsage, codec.streamEndMarker);
    const encoder = codec.createStreamEncoder({ wantsUsage: this.request.wantsUsage, route: this.route.settings.name });
    return new TranslatingProcessor(adapter.createStreamDecoder(target), encoder, target);
  }

  private record(target: Target, startedAt: number, failure?: DetourError): AttemptRecord {
    const record: AttemptRecord = {
      target: target.id,
      provider: target.provider.name,
      model: target.model,
      status: failure ? failure.status : 200,
      code: failure?.code,
      kind: failure?.kind,
      retryAfterMs: failure?.retryAfterMs,
      durationMs: this.context.clock.now() - startedAt,
    };
    this.attempts.push(record);
    const base = { requestId: this.request.id, route: this.route.settings.name, record };
    if (failure) this.context.events.emit('attempt.failed', { ...base, message: failure.message });
    else this.context.events.emit('attempt.succeeded', base);
    return record;
  }

  private meta(target: Target | undefined): ServedMeta {
    return {
      requestId: this.request.id,
      route: this.route.settings.name,
      target,
      attempts: this.attempts,
      isFailover: target !== undefined && this.firstTarget !== undefined && target !== this.firstTarget,
      isDegraded: false,
    };
  }

  private succeed(adapter: ProviderAdapter, target: Target, success: AttemptSuccess, startedAt: number): EngineResult {
    if (success.type === 'stream') {
      this.record(target, startedAt);
      return this.streamResult(target, success.status, success.head, success.live);
    }
    const isPassThrough = adapter.format === this.request.codec.format;
    let body: Buffer | string = success.body;
    let usage: (() => Usage | undefined) | undefined;
    if (isPassThrough) {
      usage = lazy(() => adapter.readUsage(tryParseJson(success.body.toString('utf8'))));
    } else {
      // Translation needs the parsed answer; a malformed one is this attempt's failure, and still recoverable.
      const response = adapter.parseResponse(tryParseJson(success.body.toString('utf8')), target);
      body = this.request.codec.encodeResponse(response);
      usage = () => response.usage;
    }
    this.record(target, startedAt);
    const result: BodyResult = { type: 'body', status: success.status, body, headers: {}, meta: this.meta(target) };
    this.finished(result.status, target, usage, undefined);
    return result;
  }

  private streamResult(target: Target, status: number, head: string, live: LiveStream): StreamResult {
    const ttftMs = this.context.clock.now() - this.request.receivedAt;
    return { type: 'stream', status, head, rest: this.relay(target, live, ttftMs), contentType: this.request.codec.streamContentType, meta: this.meta(target) };
  }

  /** The stream after its first event; a failure now cannot be hidden, so it becomes an explicit error event. */
  private async *relay(target: Target, live: LiveStream, ttftMs: number): AsyncGenerator<string, void, undefined> {
    let status = 200;
    let errorCode: DetourError['code'] | undefined;
    try {
      yield* live.rest();
    } catch (error) {
      const failure = asDetourError(error, target);
      status = failure.code === 'CLIENT_CLOSED' ? 499 : 502;
      errorCode = failure.code;
      const code = failure.code === 'UPSTREAM_STREAM_IDLE_TIMEOUT' || failure.code === 'UPSTREAM_ATTEMPT_TIMEOUT' ? failure.code : 'STREAM_INTERRUPTED';
      const encoder = this.request.codec.createStreamEncoder({ wantsUsage: this.request.wantsUsage, route: this.route.settings.name });
      yield encoder.error({ status: 502, code, message: `${failure.message} (after the stream had started; the answer is incomplete)` });
    } finally {
      live.close();
      this.finished(status, target, () => live.processor.usage, ttftMs, errorCode);
    }
  }

  private answerError(error: DetourError): BodyResult {
    const status = error.status ?? 400;
    const sameFormat = error.upstreamBody !== undefined && error.target !== undefined && this.isSameFormatTarget(error.target);
    const body = sameFormat ? JSON.stringify(error.upstreamBody) : this.request.codec.encodeError(errorPayload(error, status));
    const result: BodyResult = { type: 'body', status, body, headers: {}, meta: this.meta(undefined) };
    this.finished(status, undefined, undefined, undefined, error.code);
    return result;
  }

  private isSameFormatTarget(targetId: string): boolean {
    const target = this.candidates.find((candidate) => candidate.id === targetId);
    return target !== undefined && this.context.adapters[target.provider.type]?.format === this.request.codec.format;
  }

  private finishFailed(lastError: DetourError | undefined, isDeadline: boolean): BodyResult {
    const failure = allFailedError(this.route.settings, this.attempts, lastError, isDeadline);
    const payload: ErrorPayload = errorPayload(failure.error, failure.status, { attempts: this.attempts });
    const result: BodyResult = { type: 'body', status: failure.status, body: this.request.codec.encodeError(payload), headers: failure.headers, meta: this.meta(undefined) };
    this.finished(failure.status, undefined, undefined, undefined, failure.error.code);
    return result;
  }

  private finished(status: number, target: Target | undefined, usage: (() => Usage | undefined) | undefined, ttftMs: number | undefined, errorCode?: DetourError['code']): void {
    const events = this.context.events;
    if (!events.hasListeners('request.finished')) return;
    const now = this.context.clock.now();
    events.emit('request.finished', {
      requestId: this.request.id,
      route: this.route.settings.name,
      format: this.request.codec.format,
      stream: this.request.stream,
      status,
      target: target?.id,
      provider: target?.provider.name,
      model: target?.model,
      attempts: this.attempts,
      isFailover: target !== undefined && target !== this.firstTarget,
      isDegraded: false,
      errorCode,
      startedAt: this.request.receivedAt,
      latencyMs: now - this.request.receivedAt,
      ttftMs,
      usage: usage ?? (() => undefined),
      clientKeyId: this.request.clientKeyId,
    });
  }
}

function asDetourError(error: unknown, target: Target): DetourError {
  if (error instanceof DetourError) return error;
  return new DetourError({ kind: 'retryable', code: 'INTERNAL_ERROR', target: target.id, message: error instanceof Error ? error.message : String(error), cause: error });
}

function lazy<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}
