import type { Clock } from '../core/clock.js';
import {
  forgetExpired,
  isWithinAllowance,
  learn,
  learnedRoom,
  learnFromHeaders,
  nextBucketExpiry,
  pacingWindow,
  windowAllowance,
  type LearnedLimits,
  type LimitKind,
  type RateLimitSpec,
  type SendCount,
} from '../core/rate-limits.js';
import type { WindowSpec } from '../core/sliding-window.js';
import type { Target } from '../core/settings.js';
import type { StateStore } from '../state/state-store.js';

/** One declared limit of one target, counted in the state store (shared by a cluster on Redis). */
interface DeclaredCounter {
  kind: LimitKind;
  name: string;
  window: WindowSpec;
  allowance: number;
  perMinute: number;
}

/** What one attempt holds of its target's limits, until it is settled (or given back). */
export interface LimitTicket {
  targetId: string;
  /** When it was counted (the store's clock): settlement goes into the same bucket. */
  at: number;
  tokens: number;
  /** The send number and running tokens when it was sent, for learning from its answer. */
  sent: SendCount;
  tpmCounter?: DeclaredCounter | undefined;
  isSettled: boolean;
}

export type LimitAdmission = { isAdmitted: true; ticket: LimitTicket } | { isAdmitted: false; freeAt: number; reason: string };

/** One limit's headroom now, for `/metrics`, the dashboard and `/admin/api/targets`. */
export interface LimitHeadroom {
  kind: LimitKind;
  /** `declared` (the config's, paced over its window) or `learned` (the provider's last headers). */
  source: 'declared' | 'learned';
  /** What is left now (declared: of the window's allowance as last counted; learned: as the provider said, less what was sent since). */
  remaining: number;
  /** The whole of it: the window's allowance, or the provider's stated limit when it gave one. */
  limit?: number | undefined;
  /** The declared limit per minute. */
  perMinute?: number | undefined;
  /** When a learned limit resets (epoch ms). */
  resetAt?: number | undefined;
}

interface TargetState {
  sent: SendCount;
  learned: LearnedLimits;
  /** The last totals the store returned per declared counter, for the headroom gauges. */
  lastTotals: Map<string, { total: number; at: number }>;
}

export interface TargetLimiterOptions {
  store: StateStore;
  clock: Clock;
}

/**
 * Per-target rate limits, declared and learned. Declared limits (`limits: { rpm, tpm }` on a
 * provider or a target) are reserved in the state store's sliding-window counters in one atomic
 * addition each, paced over `core/rate-limits.ts`'s window, so that a cluster on Redis shares them
 * (and falls back to local counts with the store). Learned limits come from each answer's
 * rate-limit headers and stay local: every instance reads the provider's own count, which
 * already includes the others'. A target without either costs one map lookup.
 */
export class TargetLimiter {
  private readonly declared = new Map<string, DeclaredCounter[]>();
  private readonly states = new Map<string, TargetState>();
  private readonly freedListeners = new Set<(targetId: string) => void>();

  constructor(private readonly options: TargetLimiterOptions) {}

  /** Registers a target's declared limits (its provider's, overridden by its own); none is fine. */
  declare(target: Target, spec: RateLimitSpec | undefined): void {
    const counters: DeclaredCounter[] = [];
    if (spec?.rpm !== undefined) counters.push(counterOf(target.id, 'requests', spec.rpm));
    if (spec?.tpm !== undefined) counters.push(counterOf(target.id, 'tokens', spec.tpm));
    if (counters.length > 0) this.declared.set(target.id, counters);
    else this.declared.delete(target.id);
  }

  /** Whether this target counts tokens (a declared tpm, or a learned token limit): only then is a request's size estimated. */
  needsTokens(target: Target): boolean {
    if (this.declared.get(target.id)?.some((counter) => counter.kind === 'tokens')) return true;
    const learned = this.states.get(target.id)?.learned;
    return learned?.tokens !== undefined;
  }

  /**
   * Takes one request of `tokens` against the target's limits: a ticket to send it with, or when
   * there may be room again. Synchronous (a ticket, no store call) when the target has no
   * declared limit.
   */
  admit(target: Target, tokens: number): LimitAdmission | Promise<LimitAdmission> {
    const now = this.options.clock.now();
    const state = this.stateOf(target.id);
    state.learned = forgetExpired(state.learned, now);
    const room = learnedRoom(state.learned, state.sent, tokens, now);
    if (room && !room.hasRoom) return { isAdmitted: false, freeAt: room.freeAt ?? now + 1000, reason: 'the provider said its limit is spent' };
    const counters = this.declared.get(target.id);
    if (!counters) return { isAdmitted: true, ticket: this.send(target.id, state, tokens, now, undefined) };
    return this.reserve(target.id, state, counters, tokens, now);
  }

  /** Learns from an attempt's answer (any status): its rate-limit headers and a 429's retry-after. */
  observe(ticket: LimitTicket, status: number, headers: Readonly<Record<string, string | string[] | undefined>>): void {
    const now = this.options.clock.now();
    const learning = learnFromHeaders(headers, now, status);
    if (!learning.requests && !learning.tokens && learning.blockedUntil === undefined) return;
    const state = this.stateOf(ticket.targetId);
    state.learned = learn(forgetExpired(state.learned, now), learning, ticket.sent, now);
  }

  /** The attempt used `actualTokens` (its usage), or never reached the provider's count (undefined: its tokens go back). */
  settle(ticket: LimitTicket, actualTokens: number | undefined): void {
    if (ticket.isSettled) return;
    ticket.isSettled = true;
    const counter = ticket.tpmCounter;
    const delta = (actualTokens ?? 0) - ticket.tokens;
    if (!counter || delta === 0) return;
    void this.options.store
      .addToCounter(counter.name, delta, counter.window, ticket.at)
      .then((total) => this.remember(ticket.targetId, counter, total))
      .catch(() => undefined);
    if (delta < 0) for (const listener of this.freedListeners) listener(ticket.targetId);
  }

  /** Calls `listener` when a target's tokens are given back (room may have opened). Returns the unsubscribe function. */
  onFreed(listener: (targetId: string) => void): () => void {
    this.freedListeners.add(listener);
    return () => this.freedListeners.delete(listener);
  }

  /** Every known limit of a target and what is left of it now; empty when it has none. */
  headroom(targetId: string): LimitHeadroom[] {
    const now = this.options.clock.now();
    const state = this.states.get(targetId);
    const out: LimitHeadroom[] = [];
    for (const counter of this.declared.get(targetId) ?? []) {
      const last = state?.lastTotals.get(counter.name);
      const used = last && now - last.at < counter.window.windowMs ? last.total : 0;
      out.push({ kind: counter.kind, source: 'declared', remaining: Math.max(0, counter.allowance - used), limit: counter.allowance, perMinute: counter.perMinute });
    }
    if (state) {
      const learned = forgetExpired(state.learned, now);
      const room = learnedRoom(learned, state.sent, 0, now);
      if (learned.requests && room?.requestsLeft !== undefined) out.push({ kind: 'requests', source: 'learned', remaining: Math.max(0, room.requestsLeft), limit: learned.requests.limit, resetAt: learned.requests.resetAt });
      if (learned.tokens && room?.tokensLeft !== undefined) out.push({ kind: 'tokens', source: 'learned', remaining: Math.max(0, room.tokensLeft), limit: learned.tokens.limit, resetAt: learned.tokens.resetAt });
    }
    return out;
  }

  private async reserve(targetId: string, state: TargetState, counters: readonly DeclaredCounter[], tokens: number, now: number): Promise<LimitAdmission> {
    const store = this.options.store;
    const amountOf = (counter: DeclaredCounter): number => (counter.kind === 'requests' ? 1 : tokens);
    let totals: number[];
    try {
      totals = await Promise.all(counters.map((counter) => store.addToCounter(counter.name, amountOf(counter), counter.window, now)));
    } catch {
      // A closed or broken store (a Redis store falls back to local counts rather than throw): serve, uncounted.
      return { isAdmitted: true, ticket: this.send(targetId, state, tokens, now, undefined) };
    }
    counters.forEach((counter, index) => this.remember(targetId, counter, totals[index] as number));
    const refused = counters.findIndex((counter, index) => !isWithinAllowance(counter.kind, totals[index] as number, amountOf(counter), counter.allowance));
    if (refused !== -1) {
      await Promise.all(counters.map((counter) => store.addToCounter(counter.name, -amountOf(counter), counter.window, now).catch(() => 0)));
      const counter = counters[refused] as DeclaredCounter;
      const limitName = counter.kind === 'requests' ? `${counter.perMinute} rpm` : `${counter.perMinute} tpm`;
      return { isAdmitted: false, freeAt: nextBucketExpiry(counter.window, this.options.clock.now()), reason: `at its declared ${limitName}` };
    }
    return { isAdmitted: true, ticket: this.send(targetId, state, tokens, now, counters.find((counter) => counter.kind === 'tokens')) };
  }

  private send(targetId: string, state: TargetState, tokens: number, at: number, tpmCounter: DeclaredCounter | undefined): LimitTicket {
    state.sent = { seq: state.sent.seq + 1, tokens: state.sent.tokens + tokens };
    return { targetId, at, tokens, sent: state.sent, tpmCounter, isSettled: false };
  }

  private remember(targetId: string, counter: DeclaredCounter, total: number): void {
    this.stateOf(targetId).lastTotals.set(counter.name, { total, at: this.options.clock.now() });
  }

  private stateOf(targetId: string): TargetState {
    let state = this.states.get(targetId);
    if (!state) {
      state = { sent: { seq: 0, tokens: 0 }, learned: {}, lastTotals: new Map() };
      this.states.set(targetId, state);
    }
    return state;
  }
}

function counterOf(targetId: string, kind: LimitKind, perMinute: number): DeclaredCounter {
  const window = pacingWindow(perMinute);
  return { kind, name: `limit:${targetId}:${kind === 'requests' ? 'rpm' : 'tpm'}:${window.windowMs}`, window, allowance: windowAllowance(perMinute, window), perMinute };
}
