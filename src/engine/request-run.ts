import { adapterKeyOf } from '../providers/registry.js';
import { advance, decideNextStep, stepBeforeAttempt, walkStart, type NextStep, type WalkCursor } from '../core/attempt-decision.js';
import { waitOn } from '../core/clock.js';
import { Deadline } from '../core/deadline.js';
import { DetourError } from '../core/errors.js';
import type { AttemptRecord, StreamNotContinuedEvent } from '../core/events.js';
import { hedgeDelayMs, shouldHedge } from '../core/hedge.js';
import { recoveryStep, recoveryWaitUntil } from '../core/recovery.js';
import type { NeedsSource } from '../core/request-needs.js';
import type { Target } from '../core/settings.js';
import { upstreamTraceHeaders, type TraceContext } from '../core/trace-context.js';
import { reserveTokens } from '../core/token-reservation.js';
import type { ChatRequest, ProviderAdapter, UpstreamRequest, Usage } from '../providers/types.js';
import { abortReason, runAttempt, type AttemptSuccess } from './attempt.js';
import type { CallWait } from '../core/slow-calls.js';
import { AttemptCancel } from './attempt-abort.js';
import type { EngineContext, EngineRequest } from './engine.js';
import { waitForCapacity, type CapacityLook } from './capacity-queue.js';
import { allFailedError, atLimitError, noCapableTargetError, noTargetAvailable, queueRefusal } from './failure.js';
import { hedgeRace, type Contender } from './hedge-race.js';
import type { Plan } from './plan.js';
import type { ResolvedRoute } from './route-table.js';
import { asDetourError, RunState, type Continued, type RunOutcome, type ServingStream, type StreamRescue } from './run-state.js';
import { ContinuationProcessor, continuationRequest, partialAnswer, priorUsageOf, type ContinuationMark } from './stream-continuation.js';
import { PassThroughProcessor, TranslatingProcessor, type StreamProcessor } from './stream-processor.js';
import { StreamWatch } from './stream-watch.js';
import { newSpanId } from './trace-ids.js';
import { embeddingsNeedsSource, embeddingsUpstream } from './embeddings-call.js';
import type { LimitTicket } from './target-limits.js';

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

/** One target's turn in the walk: what it is sent, and whether it goes as its circuit's probe. */
interface Turn {
  target: Target;
  adapter: ProviderAdapter;
  upstream: UpstreamRequest;
  /** The request id when this turn is its circuit's half-open or recovery probe. */
  probeRequestId: string | undefined;
  isRecoveryProbe: boolean;
  /** A continuation brings its own processor (it writes into a stream already under way). */
  processor?: StreamProcessor | undefined;
  /** Its hold on the target's rate limits. */
  ticket?: LimitTicket | undefined;
}

/** A stream is continued at most this often; a backup that breaks twice more is not worth a fourth try. */
const maxContinuations = 2;

/** How one attempt (or a hedged pair of them) ended. */
type AttemptResult = { ok: true; started: Started } | { ok: false; failure: DetourError; isHedgeLost: boolean };

/** How a target's turn ended: with the request's outcome, or with the step that moves the walk on. */
type TurnEnd = { type: 'outcome'; outcome: RunOutcome } | { type: 'moved'; step: NextStep; failure: DetourError | undefined };

/** The candidates ran out without an answer: the request fails, or goes back to waiting for recovery. */
interface WalkExhausted {
  type: 'exhausted';
  lastError: DetourError | undefined;
  isDeadline: boolean;
}



/** What the walk has learnt so far, as a value: the last failure and who failed last. */
interface Trail {
  lastError?: DetourError | undefined;
  previous?: Target | undefined;
}

/**
 * One client request's walk through a route's candidates. The walk is a state machine: each
 * attempt's outcome becomes a `NextStep` decided in `core/attempt-decision.ts`, and a
 * `WalkCursor` value says where it stands. When every target is down, the request waits for a
 * recovery probe instead of failing at once (`core/recovery.ts`).
 */
export class RequestRun {
  private readonly deadline: Deadline;
  private readonly state: RunState;
  /** Set while the request waits in its route's queue: called once a target's limit admits it. */
  private onAdmitted: (() => void) | undefined;
  private tokenEstimate: number | undefined;
  /** The earliest a target skipped for its limit in the current walk may have room again (epoch ms). */
  private limitFreeAt = Number.POSITIVE_INFINITY;

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
    const plan = this.plan();
    if (plan.candidates.length === 0) {
      if (plan.openTargets.length === 0 && plan.incapable.length > 0) return this.state.answerError(noCapableTargetError(this.route.settings, plan), false);
      return this.recover(plan);
    }
    const result = await this.walk(plan.candidates);
    if (!isExhausted(result)) return result;
    if (result.isDeadline) return this.finish(result);
    if (this.isAtLimit(result)) return this.queueForCapacity(result);
    // Every candidate failed: the route is down for this request, so it waits for a target to come back.
    return this.recover(this.plan(), result.lastError);
  }

  private plan(): Plan {
    return this.context.planner.plan(this.route, {
      // An OpenAI body is already canonical in shape (validated); other formats are translated first.
      needs: () => this.context.needsOf(this.request.embeddings ? embeddingsNeedsSource : this.request.format === 'openai' ? (this.request.body as unknown as NeedsSource) : this.state.canonical()),
      bodyBytes: this.request.bodyBytes ?? Number.POSITIVE_INFINITY,
      upstreamKeys: this.request.upstreamKeys,
    });
  }

  private finish(result: RunOutcome | WalkExhausted): RunOutcome {
    return isExhausted(result) ? this.finishFailed(result.lastError, result.isDeadline) : result;
  }

  /**
   * Every target of the route is unavailable: wait, bounded by the deadline and the route's
   * `waitForRecoveryMs`, while this request probes each open circuit when its recovery probe is
   * due. A circuit that closes (here or on another instance) releases the request to it.
   */
  private async recover(first: Plan, failure?: DetourError): Promise<RunOutcome> {
    const { clock, minAttemptMs, events, resilience } = this.context;
    const settings = this.route.settings;
    const startedAt = clock.now();
    // A route that degrades to another answers from there at once rather than wait.
    const waitUntil = this.options.mayDegrade ? startedAt : recoveryWaitUntil(startedAt, settings.waitForRecoveryMs, this.deadline.expiresAt, minAttemptMs);
    const isDeadlineBound = waitUntil >= this.deadline.expiresAt - minAttemptMs;
    const budgets = resilience.budgetsFor(settings);
    const watched = new Set(this.route.groups.flatMap((group) => group.targets.map((target) => target.id)));
    const base = { requestId: this.request.id, route: settings.name };
    let isQueued = false;
    const release = (outcome: 'recovered' | 'gave_up' | 'client_gone'): void => {
      if (isQueued) events.emit('recovery.released', { ...base, waitedMs: clock.now() - startedAt, outcome });
    };
    let plan = first;
    let lastError = failure;
    // A request waiting for recovery holds a place in the route's queue: a full queue answers 429 at once.
    const capacity = this.context.queues.of(settings, watched);
    let holdsPlace = false;
    const leaveRecovery = (): void => {
      if (holdsPlace) capacity.leaveRecovery();
      holdsPlace = false;
    };
    const queue = (): boolean => {
      if (isQueued) return true;
      if (!capacity.enterRecovery()) return false;
      holdsPlace = true;
      isQueued = true;
      events.emit('recovery.queued', { ...base, targets: [...watched] });
      return true;
    };
    const sleep = async (ms: number): Promise<void> => {
      try {
        await this.context.recoveryWaiters.wait(watched, ms, this.request.signal);
      } catch {
        release('client_gone');
        throw abortReason(this.request.signal);
      }
    };
    try {
      for (;;) {
        if (plan.candidates.length > 0) {
          if (lastError !== undefined) {
            // These targets failed this request, and their circuits have not opened (yet): look again one
            // probe interval later, each look a retry out of the route's budget, so an outage is not amplified.
            const now = clock.now();
            if (now >= waitUntil || !budgets.retry.tryAcquire()) {
              release('gave_up');
              return this.giveUp(lastError, isDeadlineBound && now >= waitUntil, plan);
            }
            queue();
            await sleep(Math.min(resilience.breakerSettingsFor((plan.candidates[0] as Target).id).recoveryProbeMs, waitUntil - now));
            plan = this.plan();
            if (plan.candidates.length === 0) continue;
          }
          const result = await this.walk(plan.candidates);
          if (!isExhausted(result) || result.isDeadline) {
            release(isExhausted(result) ? 'gave_up' : 'recovered');
            return this.finish(result);
          }
          if (this.isAtLimit(result)) {
            // Back up, but every target is at its rate limit: the wait goes on in the capacity queue.
            release('recovered');
            leaveRecovery();
            return this.queueForCapacity(result);
          }
          lastError = result.lastError ?? lastError;
          plan = this.plan();
          continue;
        }
        const now = clock.now();
        const probeAts = plan.openTargets.map((target) => ({ target, at: resilience.breakers.recoveryProbeAt(target.id) }));
        const due = probeAts.filter((entry): entry is { target: Target; at: number } => entry.at !== undefined);
        const nextProbeAt = due.length > 0 ? Math.min(...due.map((entry) => entry.at)) : undefined;
        // No probe out, and none due before the wait ends (a provider asked for a longer retry-after): waiting cannot help.
        const isHopeless = due.length === plan.openTargets.length && nextProbeAt !== undefined && nextProbeAt > waitUntil;
        const step = isHopeless ? ({ step: 'give_up' } as const) : recoveryStep({ now, waitUntil, nextProbeAt });
        if (step.step === 'give_up') {
          release('gave_up');
          if (this.state.attempts.length > 0) return this.giveUp(lastError, isDeadlineBound && now >= waitUntil, plan);
          return this.state.allFailed(noTargetAvailable(settings, plan, now), !this.options.mayDegrade);
        }
        if (!queue()) return this.refuseQueued('full', nextProbeAt ?? now + 1000, 0);
        let sleepMs = step.step === 'wait' ? step.ms : 0;
        if (step.step === 'probe') {
          const probed = await this.probeOne(due.filter((entry) => entry.at <= now).map((entry) => entry.target));
          if (probed && !isExhausted(probed)) {
            release('recovered');
            return probed;
          }
          // After a probe of its own the request looks again at once; a probe another request won is looked at again shortly (or when it settles).
          if (probed) lastError = probed.lastError ?? lastError;
          else sleepMs = minAttemptMs;
        }
        if (sleepMs > 0) await sleep(sleepMs);
        if (this.request.signal.aborted) {
          release('client_gone');
          throw abortReason(this.request.signal);
        }
        plan = this.plan();
      }
    } finally {
      leaveRecovery();
    }
  }

  /** Sends this request as the recovery probe of the first of `targets` whose probe it wins; undefined when it won none. */
  private async probeOne(targets: readonly Target[]): Promise<RunOutcome | WalkExhausted | undefined> {
    const { resilience, events, clock } = this.context;
    for (const target of targets) {
      if (!(await resilience.breakers.tryAcquireRecoveryProbe(target.id, this.request.id))) continue;
      const startedAt = clock.now();
      const result = await this.walk([target], this.request.id);
      events.emit('recovery.probed', { requestId: this.request.id, route: this.route.settings.name, target: target.id, isSuccess: !isExhausted(result), durationMs: clock.now() - startedAt });
      return result;
    }
    return undefined;
  }

  /** Walks `candidates` in order until one answers, moving its cursor by each attempt's `NextStep`. */
  private async walk(candidates: readonly Target[], recoveryProbeId?: string): Promise<RunOutcome | WalkExhausted> {
    this.limitFreeAt = Number.POSITIVE_INFINITY;
    let cursor = walkStart;
    let trail: Trail = {};
    for (;;) {
      const target = candidates[cursor.index];
      if (!target) return { type: 'exhausted', lastError: trail.lastError, isDeadline: this.deadline.remainingMs() < this.context.minAttemptMs };
      const prepared = await this.prepareTurn(target, cursor, recoveryProbeId);
      if (prepared.type === 'answer') return prepared.outcome;
      if (prepared.type === 'skip') {
        trail = { ...trail, lastError: prepared.error ?? trail.lastError };
        cursor = advance(cursor, { step: 'failover' });
        continue;
      }
      if (trail.previous && trail.lastError) {
        this.context.events.emit('failover.performed', { requestId: this.request.id, route: this.route.settings.name, from: trail.previous.id, to: target.id, code: trail.lastError.code });
      }
      this.state.firstTarget ??= target;
      const ended = await this.runTurn(prepared.turn, cursor, candidates);
      if (ended.type === 'outcome') return ended.outcome;
      const lastError = ended.failure ?? trail.lastError;
      if (ended.step.step === 'deadline') return { type: 'exhausted', lastError, isDeadline: true };
      // After a lost hedge the next failover comes from the hedge's target, the last one tried.
      trail = { lastError, previous: ended.step.step === 'hedge_lost' ? (candidates[cursor.index + 1] ?? target) : target };
      cursor = advance(cursor, ended.step);
    }
  }

  /** Gets a target ready for its turn, or says to skip it (or to answer, for the client's own error). */
  private async prepareTurn(
    target: Target,
    cursor: WalkCursor,
    recoveryProbeId: string | undefined,
  ): Promise<{ type: 'turn'; turn: Turn } | { type: 'skip'; error?: DetourError } | { type: 'answer'; outcome: RunOutcome }> {
    const adapter = this.context.adapters[adapterKeyOf(target.provider)];
    const isTooSmall = cursor.exceededWindow !== undefined && (this.context.planner.capabilitiesOf(target)?.contextWindow ?? Infinity) <= cursor.exceededWindow;
    if (!adapter || isTooSmall) {
      this.releaseProbe(target, recoveryProbeId);
      return { type: 'skip' };
    }
    // The circuit first: a target it skips (a dead primary) costs no upstream body built for nothing.
    const breakerAdmission = recoveryProbeId ?? this.admit(target);
    const probeRequestId = breakerAdmission instanceof Promise ? await breakerAdmission : breakerAdmission;
    if (probeRequestId === false) return { type: 'skip' };
    let upstream: UpstreamRequest;
    try {
      upstream = this.buildUpstream(adapter, target);
    } catch (error) {
      // A feature this target cannot express: skip it, or answer if it is the client's fault.
      this.releaseProbe(target, probeRequestId);
      const failure = asDetourError(error, target);
      if (failure.kind === 'fatal') return { type: 'answer', outcome: this.state.answerError(failure, false) };
      return { type: 'skip', error: failure };
    }
    const limiter = this.context.limiter;
    const admitted = limiter.admit(target, limiter.needsTokens(target) ? this.tokens() : 0);
    const limit = admitted instanceof Promise ? await admitted : admitted;
    if (!limit.isAdmitted) {
      this.releaseProbe(target, probeRequestId);
      this.limitFreeAt = Math.min(this.limitFreeAt, limit.freeAt);
      return { type: 'skip', error: atLimitError(target, limit.reason, limit.freeAt - this.context.clock.now()) };
    }
    this.onAdmitted?.();
    return { type: 'turn', turn: { target, adapter, upstream, probeRequestId, isRecoveryProbe: recoveryProbeId !== undefined, ticket: limit.ticket } };
  }

  /** The request's worst case in tokens (input estimate + its output limit), counted once, only for targets with token limits. */
  private tokens(): number {
    if (this.tokenEstimate === undefined) {
      const reserved = reserveTokens(this.request.body);
      this.tokenEstimate = reserved.input + reserved.output;
    }
    return this.tokenEstimate;
  }

  /** Whether the walk ended because every target left was at its rate limit (not failed, not out of time). */
  private isAtLimit(result: WalkExhausted): boolean {
    return !result.isDeadline && result.lastError?.code === 'TARGET_AT_LIMIT' && Number.isFinite(this.limitFreeAt);
  }

  /**
   * Every target is at its rate limit: wait in the route's queue (by priority, first come first
   * served) until one has room, bounded by the queue's timeout and the deadline; a full queue or
   * the timeout is a 429 with retry-after. A route that degrades answers from there at once.
   */
  private async queueForCapacity(exhausted: WalkExhausted): Promise<RunOutcome> {
    const { clock, minAttemptMs, queues, recoveryWaiters } = this.context;
    const settings = this.route.settings;
    const targets = new Set(this.route.groups.flatMap((group) => group.targets.map((target) => target.id)));
    const firstFreeAt = this.limitFreeAt;
    if (this.options.mayDegrade || settings.queue.max === 0) return this.refuseQueued('full', firstFreeAt, 0);
    const queuedAt = clock.now();
    const ended = await waitForCapacity<RunOutcome | WalkExhausted>({
      queue: queues.of(settings, targets),
      waiters: recoveryWaiters,
      clock,
      priority: this.request.priority ?? 'normal',
      targets,
      signal: this.request.signal,
      until: Math.min(clock.now() + settings.queue.timeoutMs, this.deadline.expiresAt - minAttemptMs),
      freeAt: firstFreeAt,
      look: async (leaveQueue): Promise<CapacityLook<RunOutcome | WalkExhausted>> => {
        // The wait is known when a target admits the request, before its answer (and `request.finished`) comes.
        this.onAdmitted = () => {
          this.state.queueWaitMs = clock.now() - queuedAt;
          leaveQueue();
        };
        try {
          const result = await this.walk(this.plan().candidates);
          if (isExhausted(result) && this.isAtLimit(result)) return { type: 'at_limit', freeAt: this.limitFreeAt };
          return { type: 'done', value: result };
        } finally {
          this.onAdmitted = undefined;
        }
      },
    }).catch((error: unknown) => {
      if (this.request.signal.aborted) throw abortReason(this.request.signal);
      throw error;
    });
    if (ended.type === 'full') return this.refuseQueued('full', firstFreeAt, 0);
    if (ended.type === 'timeout') {
      this.state.queueWaitMs = ended.waitedMs;
      return this.refuseQueued('timeout', ended.freeAt, ended.waitedMs);
    }
    const result = ended.value;
    if (!isExhausted(result) || result.isDeadline) return this.finish(result);
    // Room opened, and the targets failed for another reason: the route is down for this request.
    return this.recover(this.plan(), result.lastError ?? exhausted.lastError);
  }

  private refuseQueued(reason: 'full' | 'timeout', freeAt: number, waitedMs: number): RunOutcome {
    return this.state.allFailed(queueRefusal(this.route.settings, reason, freeAt, this.context.clock.now(), waitedMs), !this.options.mayDegrade);
  }

  /** Attempts one target until it answers or a step moves the walk elsewhere. */
  private async runTurn(turn: Turn, start: WalkCursor, candidates: readonly Target[]): Promise<TurnEnd> {
    const settings = this.route.settings;
    const budgets = this.context.resilience.budgetsFor(settings);
    const { target } = turn;
    const next = candidates[start.index + 1];
    for (let cursor = start; ; ) {
      const before = stepBeforeAttempt({ isClientGone: this.request.signal.aborted, remainingMs: this.deadline.remainingMs(), minAttemptMs: this.context.minAttemptMs });
      if (before) {
        // A probe taken but never sent must be handed back, or the circuit would wait out the probe's lease.
        if (cursor.attempts === 0) this.releaseProbe(target, turn.probeRequestId);
        if (cursor.attempts === 0 && turn.ticket) this.context.limiter.settle(turn.ticket, undefined);
        if (before.step === 'client_gone') throw abortReason(this.request.signal);
        return { type: 'moved', step: before, failure: undefined };
      }
      if (cursor.attempts > 0 && turn.ticket) {
        // A retry is one more request against the target's limits: without room, the walk moves on.
        const admitted = this.context.limiter.admit(target, turn.ticket.tokens);
        const limit = admitted instanceof Promise ? await admitted : admitted;
        if (!limit.isAdmitted) {
          this.limitFreeAt = Math.min(this.limitFreeAt, limit.freeAt);
          return { type: 'moved', step: { step: 'failover' }, failure: atLimitError(target, limit.reason, limit.freeAt - this.context.clock.now()) };
        }
        turn = { ...turn, ticket: limit.ticket };
      }
      const result = await this.attempt(turn, cursor, next);
      if (result.ok) return { type: 'outcome', outcome: this.succeed(result.started) };
      const step = decideNextStep(result.failure, {
        attemptsOnTarget: cursor.attempts + 1,
        policy: settings.retry,
        remainingMs: this.deadline.remainingMs(),
        minAttemptMs: this.context.minAttemptMs,
        hasNextTarget: next !== undefined,
        isNextSibling: next !== undefined && next.provider === target.provider && next.model === target.model,
        isProbe: turn.probeRequestId !== undefined,
        isHedgeLost: result.isHedgeLost,
        contextWindow: this.context.planner.capabilitiesOf(target)?.contextWindow,
        retryAllowed: budgets.retry.available() >= 1,
        random: this.context.random,
      });
      if (step.step === 'answer') return { type: 'outcome', outcome: this.state.answerError(result.failure, this.isSameFormat(turn.adapter)) };
      if (step.step === 'client_gone') throw result.failure;
      if (step.step !== 'retry') return { type: 'moved', step, failure: result.failure };
      budgets.retry.tryAcquire();
      await this.pause(step.delayMs);
      cursor = advance(cursor, step);
    }
  }

  /** One attempt of a turn: the very first of the walk is hedged (to the next candidate) when the route says so. */
  private async attempt(turn: Turn, cursor: WalkCursor, next: Target | undefined): Promise<AttemptResult> {
    const remainingMs = this.deadline.remainingMs();
    if (cursor.index === 0 && cursor.attempts === 0 && this.route.settings.hedge.isEnabled && !turn.isRecoveryProbe) return this.hedged(turn, next, remainingMs);
    try {
      return { ok: true, started: await this.start(turn, remainingMs).result };
    } catch (error) {
      return { ok: false, failure: asDetourError(error, turn.target), isHedgeLost: false };
    }
  }

  /** Whether to try a target now: undefined to send, a request id when this is its half-open probe, false to skip. */
  private admit(target: Target): string | undefined | false | Promise<string | false> {
    const breakers = this.context.resilience.breakers;
    const admission = breakers.admission(target.id);
    // A closed circuit answers at once, without a promise: only a probe asks the store.
    if (admission === 'pass') return undefined;
    if (admission === 'skip') return false;
    return breakers.tryAcquireProbe(target.id, this.request.id).then((isAcquired) => (isAcquired ? this.request.id : false));
  }

  private releaseProbe(target: Target, probeRequestId: string | undefined): void {
    if (probeRequestId !== undefined) void this.context.resilience.breakers.record(target.id, { outcome: 'neutral', probeRequestId });
  }

  /**
   * Whether a call to `target` that turned slow is worth moving on: another target of the route
   * takes traffic, and a stream that already flows would be continued (not ended by an error).
   */
  private canMoveOn(target: Target, wait: CallWait): boolean {
    if (wait.kind === 'next_event' && this.route.settings.onStreamFailure !== 'continue') return false;
    // The target's other keys share its verdict (their circuits open with it): only another provider or model helps.
    const breakers = this.context.resilience.breakers;
    return this.route.groups.some((group) => group.targets.some((other) => (other.provider !== target.provider || other.model !== target.model) && breakers.admission(other.id) === 'pass'));
  }

  /** Whether another target of this route takes traffic now: a failed probe doubles its cooldown only then. */
  private isBackupServing(target: Target): boolean {
    const breakers = this.context.resilience.breakers;
    return this.route.groups.some((group) => group.targets.some((other) => other !== target && breakers.admission(other.id) === 'pass'));
  }

  /** Starts one upstream call, accounted for in statistics, breakers and the attempt records. */
  private start(turn: Turn, remainingMs: number, role?: AttemptRecord['role']): Contender<Started> {
    const { target, adapter, upstream, probeRequestId, ticket } = turn;
    const resilience = this.context.resilience;
    const settings = this.route.settings;
    const recordRole = role ?? (turn.isRecoveryProbe ? 'probe' : undefined);
    // Only a hedge's contenders can be called off by Detour itself; others follow the client alone.
    const cancel = settings.hedge.isEnabled ? new AttemptCancel() : undefined;
    resilience.attemptStarted(target);
    const startedAt = this.context.clock.now();
    // Only the drill listens: no payload is built for nobody.
    if (this.context.events.hasListeners('attempt.started')) this.context.events.emit('attempt.started', { requestId: this.request.id, route: settings.name, target: target.id, attempt: this.state.attempts.length + 1 });
    const isBackupServing = probeRequestId === undefined ? undefined : () => this.isBackupServing(target);
    const span = this.request.trace?.spanId === undefined ? undefined : { spanId: newSpanId(), circuit: circuitOf(turn) };
    const result = runAttempt({
      target,
      adapter,
      upstream: this.request.trace ? withTraceHeaders(upstream, this.request.trace, span?.spanId) : upstream,
      stream: this.request.stream,
      attemptTimeoutMs: settings.attemptTimeoutMs,
      firstTokenTimeoutMs: Math.min(settings.firstTokenTimeoutMs, remainingMs),
      idleTimeoutMs: settings.streamIdleTimeoutMs,
      deadlineMs: remainingMs,
      clientSignal: this.request.signal,
      cancel,
      http: this.context.http,
      clock: this.context.clock,
      timers: this.context.timers,
      createProcessor: () => turn.processor ?? this.createProcessor(adapter, target),
      watch: this.watchFor(turn),
      embeddings: this.request.embeddings,
      slowCalls: {
        watch: resilience.slowCalls,
        canMoveOn: (wait) => this.canMoveOn(target, wait),
        onStreamGap: (longestGapMs) => resilience.streamGap(target, longestGapMs),
      },
      onResponse: ticket && ((status, headers) => this.context.limiter.observe(ticket, status, headers)),
    }).then(
      (success) => {
        // Only a declared token limit has anything to settle: no timer for the rest.
        if (ticket?.tpmCounter) this.state.limitTickets.push(ticket);
        const durationMs = this.context.clock.now() - startedAt;
        this.state.record(target, startedAt, undefined, recordRole, span);
        const isWholeAnswer = success.type === 'body';
        // A probe that answers, but as slowly as the calls that opened its circuit, has not shown a recovery while
        // another target serves; with the route down, a slow answer is still the best there is, and closes it.
        const isSlow = probeRequestId !== undefined && resilience.slowCalls.isSlowSuccess(target.id, isWholeAnswer ? 'answer' : 'first_token', durationMs) && this.isBackupServing(target);
        resilience.attemptFinished(target, { durationMs, ttftMs: success.type === 'stream' ? durationMs : undefined, probeRequestId, isBackupServing, isWholeAnswer, isSlow });
        if (success.type === 'body') resilience.attemptEnded(target);
        return { success, target, adapter };
      },
      (error: unknown) => {
        // A failed attempt spent no tokens the provider counts (a 429, a refused connection): its reservation goes back.
        if (ticket) this.context.limiter.settle(ticket, undefined);
        let failure = asDetourError(error, target);
        if (failure.code === 'CLIENT_CLOSED' && !this.request.signal.aborted) {
          failure = new DetourError({ kind: 'fatal', code: 'CANCELLED', target: target.id, message: `${target.id}: called off, the other side of the hedge answered first` });
        }
        if (failure.code !== 'CLIENT_CLOSED') this.state.record(target, startedAt, failure, recordRole, span);
        // A client that left says nothing about the target (a neutral outcome), but a probe it held is released.
        resilience.attemptFinished(target, { error: failure, durationMs: this.context.clock.now() - startedAt, probeRequestId, isBackupServing });
        resilience.attemptEnded(target);
        throw failure;
      },
    );
    return { result, cancel: () => cancel?.cancel() };
  }

  /**
   * The first attempt, hedged: if the first target has not answered after the hedge delay, the
   * same request goes to the next target too, and the first answer wins. When both were sent and
   * both failed, the result says so (`isHedgeLost`), and the walk goes on after the hedge target.
   */
  private async hedged(turn: Turn, hedgeTarget: Target | undefined, remainingMs: number): Promise<AttemptResult> {
    const { target } = turn;
    const hedgeAdapter = hedgeTarget && this.context.adapters[adapterKeyOf(hedgeTarget.provider)];
    const delayMs = hedgeDelayMs(this.context.resilience.store.statsView(target.id), this.route.settings.hedge);
    let hedgeUpstream: UpstreamRequest | undefined;
    try {
      if (hedgeTarget && hedgeAdapter && this.context.resilience.breakers.admission(hedgeTarget.id) === 'pass') hedgeUpstream = this.buildUpstream(hedgeAdapter, hedgeTarget);
    } catch {
      hedgeUpstream = undefined;
    }
    const primary = this.start(turn, remainingMs);
    const settle = async (contender: Promise<Started>): Promise<AttemptResult> => {
      try {
        return { ok: true, started: await contender };
      } catch (error) {
        return { ok: false, failure: asDetourError(error, target), isHedgeLost: false };
      }
    };
    if (!hedgeTarget || !hedgeAdapter || !hedgeUpstream || delayMs === undefined) return settle(primary.result);
    const hedgeTurn: Turn = { target: hedgeTarget, adapter: hedgeAdapter, upstream: hedgeUpstream, probeRequestId: undefined, isRecoveryProbe: false };
    const budget = this.context.resilience.budgetsFor(this.route.settings).hedge;
    const outcome = await hedgeRace(
      primary,
      async (primaryDone) => {
        let timer: { clear(): void } | undefined;
        const fired = await Promise.race([new Promise<boolean>((resolve) => (timer = this.context.timers.setTimeout(() => resolve(true), delayMs))), primaryDone.then(() => false)]);
        timer?.clear();
        const moment = { hasFirstByte: !fired, hasNextTarget: true, remainingMs: this.deadline.remainingMs(), minAttemptMs: this.context.minAttemptMs };
        return shouldHedge(moment) && budget.tryAcquire();
      },
      () => this.start(hedgeTurn, this.deadline.remainingMs(), 'hedge'),
      (late) => {
        if (late.success.type === 'stream') {
          late.success.live.close();
          this.context.resilience.attemptEnded(late.target);
        }
      },
    );
    if (outcome.type === 'unhedged') return outcome.primary.ok ? { ok: true, started: outcome.primary.value } : { ok: false, failure: asDetourError(outcome.primary.error, target), isHedgeLost: false };
    if (outcome.type === 'won') return { ok: true, started: outcome.value };
    return { ok: false, failure: asDetourError(outcome.primary.ok ? outcome.hedge : outcome.primary.error, target), isHedgeLost: true };
  }

  private succeed(started: Started): RunOutcome {
    const { success, target, adapter } = started;
    const rescue = success.type === 'stream' && this.route.settings.onStreamFailure === 'continue' ? this.rescue(target) : undefined;
    return this.state.succeed(adapter, target, success, this.streamEnd(target), rescue);
  }

  /** Settles a streaming attempt with its target once its stream is over, however it ended. */
  private streamEnd(target: Target): (error?: DetourError) => void {
    const resilience = this.context.resilience;
    return (error) => {
      if (error && error.code !== 'CLIENT_CLOSED') resilience.streamFailed(target, error);
      resilience.attemptEnded(target);
    };
  }

  /** What an attempt's stream is watched for: kept for a continuation, and paced if the route says so. */
  private watchFor(turn: Turn): StreamWatch | undefined {
    if (!this.request.stream) return undefined;
    const settings = this.route.settings;
    const isKeeping = settings.onStreamFailure === 'continue' && turn.processor === undefined;
    if (!isKeeping && settings.streamMinTokensPerS === undefined) return undefined;
    return new StreamWatch(turn.adapter, turn.target, { isKeeping, minTokensPerS: settings.streamMinTokensPerS });
  }

  /**
   * Continues this request's stream when it breaks after its start: the partial answer as a
   * prefix to the next healthy target, its answer spliced in (see `stream-continuation.ts`).
   * Never inside a tool call's arguments, never past the deadline, at most `maxContinuations` times.
   */
  private rescue(first: Target): StreamRescue {
    const served = [first.id];
    let count = 0;
    return {
      get count() {
        return count;
      },
      continueAfter: async (failure: DetourError, broken: ServingStream): Promise<Continued | undefined> => {
        const processor = broken.live.processor;
        let prefix: string;
        let priorUsage: Usage | undefined;
        const refuse = (reason: StreamNotContinuedEvent['reason']): undefined => {
          this.context.events.emit('stream.not_continued', { requestId: this.request.id, route: this.route.settings.name, target: broken.target.id, code: failure.code, reason });
          return undefined;
        };
        if (processor instanceof ContinuationProcessor) {
          if (processor.hasToolCall) return refuse('tool_call');
          prefix = processor.prefix + processor.text;
          priorUsage = processor.usage;
        } else {
          const watch = broken.live.watch;
          const partial = watch && partialAnswer(watch, processor.releasedEvents);
          if (!partial) return refuse('too_long');
          if (partial.hasToolCall) return refuse('tool_call');
          prefix = partial.text;
          priorUsage = priorUsageOf(partial);
        }
        if (count >= maxContinuations) return refuse('limit');
        if (this.deadline.remainingMs() < this.context.minAttemptMs || failure.code === 'DEADLINE_EXCEEDED') return refuse('deadline');
        const canonical = this.state.canonical();
        if ((canonical.n ?? 1) > 1) return refuse('no_target');
        const markOf = (to: Target): ContinuationMark => ({ continued: true, count: count + 1, targets: [...served, to.id] });
        const next = await this.continuation(canonical, prefix, priorUsage, broken.target, markOf);
        if (!next) return refuse('no_target');
        count++;
        served.push(next.target.id);
        this.context.events.emit('stream.continued', { requestId: this.request.id, route: this.route.settings.name, from: broken.target.id, to: next.target.id, code: failure.code, keptChars: prefix.length, count });
        return next;
      },
    };
  }

  /** Starts the continuation of a broken stream on the first healthy candidate other than the one that broke. */
  private async continuation(canonical: ChatRequest, prefix: string, priorUsage: Usage | undefined, broken: Target, markOf: (to: Target) => ContinuationMark): Promise<Continued | undefined> {
    const breakers = this.context.resilience.breakers;
    // A stall or a reset is the provider's more often than one key's: other providers and models first, the broken one's other keys last.
    const candidates = this.plan().candidates;
    const isSibling = (target: Target): boolean => target.provider === broken.provider && target.model === broken.model;
    for (const target of [...candidates.filter((target) => !isSibling(target)), ...candidates.filter(isSibling)]) {
      const adapter = this.context.adapters[adapterKeyOf(target.provider)];
      if (!adapter || target.id === broken.id || breakers.admission(target.id) !== 'pass') continue;
      let upstream: UpstreamRequest;
      try {
        upstream = adapter.buildRequest(continuationRequest(canonical, prefix, adapter.format), target, { stream: true, wantStreamUsage: true });
      } catch {
        continue;
      }
      const mark = markOf(target);
      const processor = new ContinuationProcessor(adapter.createStreamDecoder(target), target, prefix, priorUsage, () => mark);
      const turn: Turn = { target, adapter, upstream, probeRequestId: undefined, isRecoveryProbe: false, processor };
      const remainingMs = this.deadline.remainingMs();
      if (remainingMs < this.context.minAttemptMs) return undefined;
      let started: Started;
      try {
        started = await this.start(turn, remainingMs, 'continuation').result;
      } catch (error) {
        if (asDetourError(error, target).code === 'CLIENT_CLOSED') return undefined;
        continue;
      }
      if (started.success.type !== 'stream') continue;
      const comment = `: detour continued this stream on ${target.id} after ${broken.id} broke, from character ${prefix.length}\n\n`;
      return { target, live: started.success.live, head: started.success.head, onEnd: this.streamEnd(target), comment, prefix };
    }
    return undefined;
  }

  /** The wait for recovery is over: fail as the attempts say, and tell the client when the route may be back. */
  private giveUp(lastError: DetourError | undefined, isDeadline: boolean, plan: Plan): RunOutcome {
    const failed = allFailedError(this.route.settings, this.state.attempts, lastError, isDeadline);
    if (failed.status === 503 && failed.headers['retry-after'] === undefined) {
      const seconds = plan.firstRecoveryAt === undefined ? 1 : Math.max(1, Math.ceil((plan.firstRecoveryAt - this.context.clock.now()) / 1000));
      failed.headers = { ...failed.headers, 'retry-after': String(seconds) };
    }
    return this.state.allFailed(failed, !this.options.mayDegrade);
  }

  private finishFailed(lastError: DetourError | undefined, isDeadline: boolean): RunOutcome {
    return this.state.allFailed(allFailedError(this.route.settings, this.state.attempts, lastError, isDeadline), !this.options.mayDegrade);
  }

  private isSameFormat(adapter: ProviderAdapter): boolean {
    return adapter.format === this.request.format;
  }

  private async pause(ms: number): Promise<void> {
    try {
      await waitOn(this.context.timers, ms, this.request.signal);
    } catch {
      throw abortReason(this.request.signal);
    }
  }

  private buildUpstream(adapter: ProviderAdapter, target: Target): UpstreamRequest {
    if (this.request.embeddings) return embeddingsUpstream(this.request.embeddings, target);
    const options = { stream: this.request.stream, wantStreamUsage: true };
    if (this.isSameFormat(adapter)) return adapter.buildPassThroughRequest(this.request.body, target, { ...options, forward: this.request.forward, raw: this.request.raw?.() });
    return adapter.buildRequest(this.state.canonical(), target, options);
  }

  private createProcessor(adapter: ProviderAdapter, target: Target): StreamProcessor {
    const holdsToolCalls = this.route.settings.onStreamFailure === 'continue';
    if (this.isSameFormat(adapter)) return new PassThroughProcessor(adapter, target, this.request.wantsUsage, holdsToolCalls);
    return new TranslatingProcessor(adapter.createStreamDecoder(target), target, holdsToolCalls);
  }
}

/** The target's circuit as this call went out: a half-open probe, a recovery probe through an open circuit, or closed. */
function circuitOf(turn: Turn): 'closed' | 'half_open' | 'open' {
  if (turn.probeRequestId === undefined) return 'closed';
  return turn.isRecoveryProbe ? 'open' : 'half_open';
}

/** The upstream call with the trace's `traceparent` (and `tracestate`); a copy, the turn's request may be sent again. */
function withTraceHeaders(upstream: UpstreamRequest, trace: TraceContext, spanId: string | undefined): UpstreamRequest {
  return { ...upstream, headers: { ...upstream.headers, ...upstreamTraceHeaders(trace, spanId) } };
}

function isExhausted(result: RunOutcome | WalkExhausted): result is WalkExhausted {
  return 'type' in result && result.type === 'exhausted';
}
