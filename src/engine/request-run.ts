import { adapterKeyOf } from '../providers/registry.js';
import { decideNextStep } from '../core/attempt-decision.js';
import { Deadline } from '../core/deadline.js';
import { DetourError } from '../core/errors.js';
import type { AttemptRecord } from '../core/events.js';
import { hedgeDelayMs, shouldHedge } from '../core/hedge.js';
import type { NeedsSource } from '../core/request-needs.js';
import type { Target } from '../core/settings.js';
import type { ProviderAdapter, UpstreamRequest } from '../providers/types.js';
import { clientClosedError, runAttempt, type AttemptSuccess } from './attempt.js';
import type { EngineContext, EngineRequest } from './engine.js';
import { allFailedError, noCapableTargetError, noTargetAvailable } from './failure.js';
import { hedgeRace, type Contender } from './hedge-race.js';
import type { Plan } from './plan.js';
import type { ResolvedRoute } from './route-table.js';
import { asDetourError, RunState, type RunOutcome } from './run-state.js';
import { PassThroughProcessor, TranslatingProcessor, type StreamProcessor } from './stream-processor.js';

export interface RunOptions {
  isDegraded: boolean;
  priorAttempts: readonly AttemptRecord[];
  /** Another route may still answer if this one fails: leave `request.finished` to it. */
  mayDegrade: boolean;
}

interface Started {
  success: AttemptSuccess;
  target: Target;
  adapter: ProviderAdapter;
}

/** One client request's walk through a route's candidates: attempts, retries, hedges, failover. */
export class RequestRun {
  private readonly deadline: Deadline;
  private readonly state: RunState;
  private candidates: readonly Target[] = [];

  constructor(
    private readonly context: EngineContext,
    private readonly request: EngineRequest,
    private readonly route: ResolvedRoute,
    private readonly options: RunOptions,
  ) {
    this.deadline = new Deadline(context.clock, route.settings.timeoutMs);
    this.state = new RunState(context, request, route, options.isDegraded, options.priorAttempts);
  }

  get attempts(): readonly AttemptRecord[] {
    return this.state.attempts;
  }

  async execute(): Promise<RunOutcome> {
    const budgets = this.context.resilience.budgetsFor(this.route.settings);
    budgets.retry.recordRequest();
    if (this.route.settings.hedge.isEnabled) budgets.hedge.recordRequest();
    let plan = this.plan();
    if (plan.candidates.length === 0) {
      if (plan.openTargets.length === 0 && plan.incapable.length > 0) return this.state.answerError(noCapableTargetError(this.route.settings, plan), false);
      plan = await this.waitForRecovery(plan);
      if (plan.candidates.length === 0) return this.state.allFailed(noTargetAvailable(this.route.settings, plan, this.context.clock.now()), !this.options.mayDegrade);
    }
    this.candidates = plan.candidates;
    return this.walk();
  }

  private plan(): Plan {
    return this.context.planner.plan(this.route, {
      // An OpenAI body is already canonical in shape (validated); other formats are translated first.
      needs: () => this.context.needsOf(this.request.format === 'openai' ? (this.request.body as unknown as NeedsSource) : this.state.canonical()),
      bodyBytes: this.request.bodyBytes ?? Number.POSITIVE_INFINITY,
      upstreamKeys: this.request.upstreamKeys,
    });
  }

  /** Every circuit is open: wait for the first cooldown to end, if the route allows and the deadline fits. */
  private async waitForRecovery(plan: Plan): Promise<Plan> {
    const maxWait = this.route.settings.waitForRecoveryMs;
    if (maxWait <= 0 || plan.firstRecoveryAt === undefined) return plan;
    const waitMs = Math.max(1, plan.firstRecoveryAt - this.context.clock.now() + 1);
    if (waitMs > maxWait || !this.deadline.allows(waitMs, this.context.minAttemptMs)) return plan;
    await this.pause(waitMs);
    return this.plan();
  }

  private async walk(): Promise<RunOutcome> {
    const settings = this.route.settings;
    const budgets = this.context.resilience.budgetsFor(settings);
    let lastError: DetourError | undefined;
    let previous: Target | undefined;
    /** After a context-length error, only targets with a larger window are worth trying. */
    let exceededWindow: number | undefined;
    for (let index = 0; index < this.candidates.length; index++) {
      const target = this.candidates[index] as Target;
      const adapter = this.context.adapters[adapterKeyOf(target.provider)];
      if (!adapter) continue;
      if (exceededWindow !== undefined && (this.context.planner.capabilitiesOf(target)?.contextWindow ?? Infinity) <= exceededWindow) continue;
      let upstream: UpstreamRequest;
      try {
        upstream = this.buildUpstream(adapter, target);
      } catch (error) {
        // A feature this target cannot express: skip it, or answer if it is the client's fault.
        lastError = asDetourError(error, target);
        if (lastError.kind === 'fatal') return this.state.answerError(lastError, false);
        continue;
      }
      const probeRequestId = await this.admit(target);
      if (probeRequestId === false) continue;
      /** Set when a lost hedge also tried the next target: the walk goes on after it. */
      let triedHedgeTarget: Target | undefined;
      for (let attemptNumber = 1; ; attemptNumber++) {
        const remainingMs = this.deadline.remainingMs();
        if (this.request.signal.aborted || remainingMs < this.context.minAttemptMs) {
          // A probe taken but never sent must be handed back, or the circuit would wait out the probe's lease.
          if (attemptNumber === 1) this.releaseProbe(target, probeRequestId);
          if (this.request.signal.aborted) throw clientClosedError();
          return this.finishFailed(lastError, true);
        }
        if (attemptNumber === 1) {
          if (previous && lastError) this.context.events.emit('failover.performed', { requestId: this.request.id, route: settings.name, from: previous.id, to: target.id, code: lastError.code });
          this.state.firstTarget ??= target;
        }
        let failure: DetourError;
        let isHedgeTargetTried = false;
        try {
          const started =
            index === 0 && attemptNumber === 1 && settings.hedge.isEnabled
              ? await this.hedged(target, adapter, upstream, remainingMs, probeRequestId).catch((error: unknown) => {
                  isHedgeTargetTried = error instanceof HedgeLost;
                  throw error instanceof HedgeLost ? error.failure : error;
                })
              : await this.start(target, adapter, upstream, remainingMs, probeRequestId).result;
          return this.succeed(started);
        } catch (error) {
          failure = asDetourError(error, target);
        }
        if (failure.code === 'CLIENT_CLOSED') throw failure;
        lastError = failure;
        if (isHedgeTargetTried) {
          triedHedgeTarget = this.candidates[1];
          index = 1;
          break;
        }
        if (failure.code === 'CONTEXT_LENGTH_EXCEEDED') exceededWindow = this.context.planner.capabilitiesOf(target)?.contextWindow;
        // A failed probe has reopened the circuit: the target is not retried.
        if (probeRequestId !== undefined) break;
        const step = decideNextStep(failure, {
          attemptsOnTarget: attemptNumber,
          policy: settings.retry,
          remainingMs: this.deadline.remainingMs(),
          minAttemptMs: this.context.minAttemptMs,
          hasNextTarget: index < this.candidates.length - 1,
          retryAllowed: budgets.retry.available() >= 1,
          random: this.context.random,
        });
        if (step.action === 'answer') return this.state.answerError(failure, this.isSameFormat(adapter));
        if (step.action === 'failover' || this.isRateLimitedWithSibling(failure, index)) break;
        budgets.retry.tryAcquire();
        await this.pause(step.delayMs);
      }
      previous = triedHedgeTarget ?? target;
    }
    return this.finishFailed(lastError, this.deadline.remainingMs() < this.context.minAttemptMs);
  }

  /** Whether to try a target now: undefined to send, a request id when this is its half-open probe, false to skip. */
  private async admit(target: Target): Promise<string | undefined | false> {
    const breakers = this.context.resilience.breakers;
    const admission = breakers.admission(target.id);
    if (admission === 'pass') return undefined;
    if (admission === 'skip') return false;
    return (await breakers.tryAcquireProbe(target.id, this.request.id)) ? this.request.id : false;
  }

  private releaseProbe(target: Target, probeRequestId: string | undefined): void {
    if (probeRequestId !== undefined) void this.context.resilience.breakers.record(target.id, { outcome: 'neutral', probeRequestId });
  }

  /** A 429 on one key moves to the provider's next key at once, rather than waiting to retry it. */
  private isRateLimitedWithSibling(failure: DetourError, index: number): boolean {
    const target = this.candidates[index];
    const next = this.candidates[index + 1];
    return failure.code === 'UPSTREAM_RATE_LIMITED' && target !== undefined && next !== undefined && next.provider === target.provider && next.model === target.model;
  }

  /** Starts one upstream call, accounted for in statistics, breakers and the attempt records. */
  private start(target: Target, adapter: ProviderAdapter, upstream: UpstreamRequest, remainingMs: number, probeRequestId?: string, role?: 'hedge'): Contender<Started> {
    const resilience = this.context.resilience;
    const settings = this.route.settings;
    // Only a hedge's contenders can be called off by Detour itself; others follow the client alone.
    const cancel = settings.hedge.isEnabled ? new AbortController() : undefined;
    resilience.attemptStarted(target);
    const startedAt = this.context.clock.now();
    // Only the drill listens: no payload is built for nobody.
    if (this.context.events.hasListeners('attempt.started')) this.context.events.emit('attempt.started', { requestId: this.request.id, route: settings.name, target: target.id, attempt: this.state.attempts.length + 1 });
    const result = runAttempt({
      target,
      adapter,
      upstream,
      stream: this.request.stream,
      attemptTimeoutMs: Math.min(settings.attemptTimeoutMs, remainingMs),
      firstTokenTimeoutMs: Math.min(settings.firstTokenTimeoutMs, remainingMs),
      idleTimeoutMs: settings.streamIdleTimeoutMs,
      clientSignal: cancel ? AbortSignal.any([this.request.signal, cancel.signal]) : this.request.signal,
      http: this.context.http,
      clock: this.context.clock,
      createProcessor: () => this.createProcessor(adapter, target),
    }).then(
      (success) => {
        const durationMs = this.context.clock.now() - startedAt;
        this.state.record(target, startedAt, undefined, role);
        resilience.attemptFinished(target, { durationMs, ttftMs: success.type === 'stream' ? durationMs : undefined, probeRequestId });
        if (success.type === 'body') resilience.attemptEnded(target);
        return { success, target, adapter };
      },
      (error: unknown) => {
        let failure = asDetourError(error, target);
        if (failure.code === 'CLIENT_CLOSED' && !this.request.signal.aborted) {
          failure = new DetourError({ kind: 'fatal', code: 'CANCELLED', target: target.id, message: `${target.id}: called off, the other side of the hedge answered first` });
        }
        if (failure.code !== 'CLIENT_CLOSED') this.state.record(target, startedAt, failure, role);
        // A client that left says nothing about the target (a neutral outcome), but a probe it held is released.
        resilience.attemptFinished(target, { error: failure, durationMs: this.context.clock.now() - startedAt, probeRequestId });
        resilience.attemptEnded(target);
        throw failure;
      },
    );
    return { result, cancel: () => cancel?.abort() };
  }

  /**
   * The first attempt, hedged: if the first target has not answered after the hedge delay, the
   * same request goes to the next target too, and the first answer wins. Throws `HedgeLost`
   * when both were sent and both failed.
   */
  private async hedged(target: Target, adapter: ProviderAdapter, upstream: UpstreamRequest, remainingMs: number, probeRequestId: string | undefined): Promise<Started> {
    const hedgeTarget = this.candidates[1];
    const hedgeAdapter = hedgeTarget && this.context.adapters[adapterKeyOf(hedgeTarget.provider)];
    const delayMs = hedgeDelayMs(this.context.resilience.store.statsView(target.id), this.route.settings.hedge);
    let hedgeUpstream: UpstreamRequest | undefined;
    try {
      if (hedgeTarget && hedgeAdapter && this.context.resilience.breakers.admission(hedgeTarget.id) === 'pass') hedgeUpstream = this.buildUpstream(hedgeAdapter, hedgeTarget);
    } catch {
      hedgeUpstream = undefined;
    }
    const primary = this.start(target, adapter, upstream, remainingMs, probeRequestId);
    if (!hedgeTarget || !hedgeAdapter || !hedgeUpstream || delayMs === undefined) return primary.result;
    const budget = this.context.resilience.budgetsFor(this.route.settings).hedge;
    const outcome = await hedgeRace(
      primary,
      async (primaryDone) => {
        let timer: NodeJS.Timeout | undefined;
        const fired = await Promise.race([new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), delayMs))), primaryDone.then(() => false)]);
        clearTimeout(timer);
        const moment = { hasFirstByte: !fired, hasNextTarget: true, remainingMs: this.deadline.remainingMs(), minAttemptMs: this.context.minAttemptMs };
        return shouldHedge(moment) && budget.tryAcquire();
      },
      () => this.start(hedgeTarget, hedgeAdapter, hedgeUpstream, this.deadline.remainingMs(), undefined, 'hedge'),
      (late) => {
        if (late.success.type === 'stream') {
          late.success.live.close();
          this.context.resilience.attemptEnded(late.target);
        }
      },
    );
    if (outcome.type === 'unhedged') {
      if (outcome.primary.ok) return outcome.primary.value;
      throw outcome.primary.error;
    }
    if (outcome.type === 'won') return outcome.value;
    throw new HedgeLost(asDetourError(outcome.primary.ok ? outcome.hedge : outcome.primary.error, target));
  }

  private succeed(started: Started): RunOutcome {
    const { success, target, adapter } = started;
    const resilience = this.context.resilience;
    return this.state.succeed(adapter, target, success, (error) => {
      if (error && error.code !== 'CLIENT_CLOSED') resilience.streamFailed(target, error);
      resilience.attemptEnded(target);
    });
  }

  private finishFailed(lastError: DetourError | undefined, isDeadline: boolean): RunOutcome {
    return this.state.allFailed(allFailedError(this.route.settings, this.state.attempts, lastError, isDeadline), !this.options.mayDegrade);
  }

  private isSameFormat(adapter: ProviderAdapter): boolean {
    return adapter.format === this.request.format;
  }

  private async pause(ms: number): Promise<void> {
    try {
      await this.context.wait(ms, this.request.signal);
    } catch {
      throw clientClosedError();
    }
  }

  private buildUpstream(adapter: ProviderAdapter, target: Target): UpstreamRequest {
    const options = { stream: this.request.stream, wantStreamUsage: true };
    if (this.isSameFormat(adapter)) return adapter.buildPassThroughRequest(this.request.body, target, { ...options, forward: this.request.forward });
    return adapter.buildRequest(this.state.canonical(), target, options);
  }

  private createProcessor(adapter: ProviderAdapter, target: Target): StreamProcessor {
    if (this.isSameFormat(adapter)) return new PassThroughProcessor(adapter, target, this.request.wantsUsage);
    return new TranslatingProcessor(adapter.createStreamDecoder(target), target);
  }
}

/** Both sides of a hedge failed; the failover walk goes on after the hedge target. */
class HedgeLost extends Error {
  constructor(readonly failure: DetourError) {
    super(failure.message);
  }
}
