import type { Clock } from '../core/clock.js';
import type { DetourErrorCode } from '../core/errors.js';
import type { Usage } from '../core/events.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import type { WindowSpec } from '../core/sliding-window.js';
import type { StateStore } from '../state/state-store.js';
import { formatUsd, longestPeriodMs, nanoUsdPerUsd, periodAdjective, periodBounds, toNanoUsd } from './budget-period.js';
import { reserveTokens, worstCaseUsd } from './cost-estimate.js';
import type { KeyDirectory } from './key-directory.js';
import { presentedKey, type CredentialSource } from './presented-key.js';
import type { VirtualKey } from './virtual-key.js';

/** A request on its way past the front door: the route it names, its body. */
export interface GuardRequest {
  requestId: string;
  route: string;
  body: Readonly<Record<string, unknown>>;
}

/** Why a request was turned away, in terms every client format can carry. */
export interface Refusal {
  status: 401 | 402 | 403 | 429;
  code: Extract<DetourErrorCode, 'UNAUTHORIZED' | 'FORBIDDEN' | 'RATE_LIMITED' | 'BUDGET_EXCEEDED'>;
  message: string;
  headers: Record<string, string>;
  /** Which limit refused it (metrics): missing/unknown/revoked/expired key, scope, rpm, tpm, parallel, budget. */
  reason: RefusalReason;
  key?: VirtualKey | undefined;
}

export type RefusalReason = 'missing_key' | 'unknown_key' | 'revoked_key' | 'expired_key' | 'scope' | 'rpm' | 'tpm' | 'max_parallel' | 'budget';

export type Admission = { isAdmitted: true; key?: VirtualKey | undefined } | { isAdmitted: false; refusal: Refusal };

/** What the guard needs to know of a route: the models it may call, for the worst-case price. */
export interface RouteCosting {
  models(route: string): readonly string[];
}

/** A budget crossed 80 % or 100 % of itself in its period. */
export interface BudgetAlert {
  key: VirtualKey;
  threshold: 0.8 | 1;
  spentUsd: number;
  budgetUsd: number;
  periodEnd: number;
}

export interface KeyGuardOptions {
  directory: KeyDirectory;
  store: StateStore;
  clock: Clock;
  catalog: ModelCatalog;
  routes: RouteCosting;
  /** Called once per key, period and threshold across the cluster (a lease decides which instance). */
  onBudgetAlert?: (alert: BudgetAlert) => void;
  /** Who this instance is, for the alert leases. */
  instanceId?: string;
}

/** The per-minute windows (1 s buckets): a minute remembered for 60-61 s. */
const minuteWindow: WindowSpec = { windowMs: 60_000, bucketCount: 60 };
/** In-flight counts: every reservation is undone in its own bucket; a crashed instance's leak ages out within two hours. */
const parallelWindow: WindowSpec = { windowMs: 3_600_000, bucketCount: 1 };
/** A request whose end was never announced gives its in-flight slot back after this long. */
const abandonedTicketMs = 15 * 60_000;

interface Reservation {
  counter: string;
  window: WindowSpec;
  amount: number;
}

/** What a request holds until it finishes, settled to its actual use then. */
interface Ticket {
  key: VirtualKey;
  at: number;
  tokens: number;
  nanoUsd: number;
  reservations: Reservation[];
  budgetCounter?: string | undefined;
  timer: NodeJS.Timeout;
}

/**
 * The front door's checks for one request, independent of any transport: which key it carries
 * (401), whether its route is in the key's scope (403), and its rpm, tpm, in-flight and budget
 * limits (429 with `retry-after`, 402 for a spent budget). Counters live in the state store, so
 * a cluster on Redis shares them. Every limit is reserved before the call in one atomic
 * addition per counter (the budget at the request's worst-case cost), undone at once when
 * another limit refuses, and settled to the actual use when the request finishes, so a burst
 * can never spend past a limit.
 */
export class KeyGuard {
  /**
   * Held reservations by request id and key name: a client may choose its request id, so a
   * finished request settles only a ticket of its own key, and equal ids queue up.
   */
  private readonly tickets = new Map<string, Ticket[]>();
  private readonly alerted = new Set<string>();

  constructor(private readonly options: KeyGuardOptions) {}

  /** Which key the request carries: a refusal (401) for a missing, unknown, revoked or expired one. Runs before the body is read. */
  async authenticate(credentials: CredentialSource): Promise<{ key: VirtualKey } | { refusal: Refusal }> {
    const presented = presentedKey(credentials);
    if (presented === undefined) {
      return refuse(401, 'UNAUTHORIZED', 'missing_key', 'A Detour key is required: send it as "Authorization: Bearer <key>" (OpenAI), "x-api-key" (Anthropic) or "x-goog-api-key" (Gemini).');
    }
    const found = await this.options.directory.lookup(presented);
    if (found.status === 'unknown') return refuse(401, 'UNAUTHORIZED', 'unknown_key', 'The Detour key is not valid.');
    if (found.status === 'revoked') return refuse(401, 'UNAUTHORIZED', 'revoked_key', `The Detour key "${found.key.name}" has been revoked.`, found.key);
    if (found.status === 'expired') return refuse(401, 'UNAUTHORIZED', 'expired_key', `The Detour key "${found.key.name}" expired at ${new Date(found.key.expiresAt ?? 0).toISOString()}.`, found.key);
    return { key: found.key };
  }

  /** Whether an authenticated key may make this request now: its scope (403), then its limits and budget, reserved. */
  async admit(key: VirtualKey, request: GuardRequest): Promise<Admission> {
    if (key.routes && !key.routes.includes(request.route)) {
      return { isAdmitted: false, refusal: refusalOf(403, 'FORBIDDEN', 'scope', `The Detour key "${key.name}" may not call "${request.route}" (allowed: ${key.routes.join(', ')}).`, key) };
    }
    return this.reserve(request, key);
  }

  /**
   * Settles a finished request: its in-flight slot back, its tokens and spend to what it actually
   * used. Cheap on the request path: usage is read (and a passed-through body parsed) later.
   */
  settle(requestId: string, finished: { keyName?: string | undefined; model?: string | undefined; usage?: (() => Usage | undefined) | undefined }): void {
    if (finished.keyName === undefined) return;
    const ticket = this.take(ticketName(requestId, finished.keyName));
    if (!ticket) return;
    clearTimeout(ticket.timer);
    setImmediate(() => this.apply(ticket, finished.model, finished.usage?.()));
  }

  /** A request never announced as finished gives back its in-flight slot only: what it spent is unknown, so its reservation stands. */
  private abandon(name: string, ticket: Ticket): void {
    const queue = this.tickets.get(name);
    const index = queue?.indexOf(ticket) ?? -1;
    if (!queue || index === -1) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.tickets.delete(name);
    for (const reservation of ticket.reservations) {
      if (reservation.counter.endsWith(':parallel')) void this.options.store.addToCounter(reservation.counter, -reservation.amount, reservation.window, ticket.at).catch(() => 0);
    }
  }

  private apply(ticket: Ticket, model: string | undefined, usage: Usage | undefined): void {
    const store = this.options.store;
    const tokens = usage ? usage.prompt_tokens + usage.completion_tokens : 0;
    const usd = usage && model !== undefined ? (this.options.catalog.cost(model, { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, cachedTokens: usage.prompt_tokens_details?.cached_tokens }) ?? 0) : 0;
    for (const reservation of ticket.reservations) {
      let delta = -reservation.amount;
      if (reservation.counter.endsWith(':tpm')) delta = tokens - ticket.tokens;
      else if (reservation.counter === ticket.budgetCounter) delta = toNanoUsd(usd) - ticket.nanoUsd;
      if (delta === 0 && reservation.counter !== ticket.budgetCounter) continue;
      const settled = store.addToCounter(reservation.counter, delta, reservation.window, ticket.at);
      if (reservation.counter === ticket.budgetCounter) void settled.then((total) => this.checkBudget(ticket.key, total, ticket.at)).catch(() => undefined);
      else void settled.catch(() => undefined);
    }
  }

  private take(name: string): Ticket | undefined {
    const queue = this.tickets.get(name);
    const ticket = queue?.shift();
    if (queue && queue.length === 0) this.tickets.delete(name);
    return ticket;
  }

  /** Requests admitted and not yet settled (tests, shutdown). */
  get heldTickets(): number {
    let count = 0;
    for (const queue of this.tickets.values()) count += queue.length;
    return count;
  }

  /** What a key has used now: rpm, tpm, in flight, and spend in its current period. */
  async usage(key: VirtualKey): Promise<KeyUsage> {
    const store = this.options.store;
    const now = this.options.clock.now();
    const [requests, tokens, inFlight, spent] = await Promise.all([
      key.rpm ? store.readCounter(counterName(key, 'rpm'), minuteWindow) : Promise.resolve(undefined),
      key.tpm ? store.readCounter(counterName(key, 'tpm'), minuteWindow) : Promise.resolve(undefined),
      key.maxParallel ? store.readCounter(counterName(key, 'parallel'), parallelWindow) : Promise.resolve(undefined),
      key.period ? store.readCounter(budgetCounter(key, now), budgetWindow(key)) : Promise.resolve(undefined),
    ]);
    const period = key.period ? periodBounds(key.period, now) : undefined;
    return {
      requestsLastMinute: requests,
      tokensLastMinute: tokens,
      inFlight: inFlight === undefined ? undefined : Math.max(0, inFlight),
      spentUsd: spent === undefined ? undefined : Math.max(0, spent) / nanoUsdPerUsd,
      periodStart: period?.start,
      periodEnd: period?.end,
    };
  }

  /** Gives every held slot back (shutdown). */
  close(): void {
    for (const queue of this.tickets.values()) for (const ticket of queue) clearTimeout(ticket.timer);
    this.tickets.clear();
  }

  private async reserve(request: GuardRequest, key: VirtualKey): Promise<Admission> {
    const hasTokenLimits = key.tpm !== undefined || key.budgetUsd !== undefined;
    if (!hasTokenLimits && key.rpm === undefined && key.maxParallel === undefined) return { isAdmitted: true, key };
    const at = this.options.clock.now();
    const tokens = hasTokenLimits ? reserveTokens(request.body) : { input: 0, output: 0 };
    const nanoUsd = key.budgetUsd !== undefined ? toNanoUsd(worstCaseUsd(tokens, this.options.routes.models(request.route), this.options.catalog)) : 0;
    const checks: Array<{ reservation: Reservation; isWithin(total: number): boolean; refusal(total: number): Refusal }> = [];
    if (key.budgetUsd !== undefined && key.period !== undefined) {
      const budget = key.budgetUsd;
      const period = key.period;
      checks.push({
        reservation: { counter: budgetCounter(key, at), window: budgetWindow(key), amount: nanoUsd },
        isWithin: (total) => total <= toNanoUsd(budget),
        refusal: (total) => {
          const { end } = periodBounds(period, at);
          const spent = Math.max(0, total - nanoUsd) / nanoUsdPerUsd;
          return refusalOf(402, 'BUDGET_EXCEEDED', 'budget', `The ${periodAdjective[period]} budget of ${formatUsd(budget)} for the Detour key "${key.name}" is spent (${formatUsd(spent)} used or reserved by requests in flight; this request could cost up to ${formatUsd(nanoUsd / nanoUsdPerUsd)}). It resets at ${new Date(end).toISOString()}.`, key, {
            'x-detour-budget-usd': String(budget),
            'x-detour-budget-reset': new Date(end).toISOString(),
          });
        },
      });
    }
    if (key.rpm !== undefined) {
      const rpm = key.rpm;
      checks.push({
        reservation: { counter: counterName(key, 'rpm'), window: minuteWindow, amount: 1 },
        isWithin: (total) => total <= rpm,
        refusal: () => refusalOf(429, 'RATE_LIMITED', 'rpm', `The Detour key "${key.name}" is limited to ${rpm} requests per minute.`, key, { 'retry-after': String(Math.max(1, Math.ceil(60 / rpm))) }),
      });
    }
    if (key.tpm !== undefined) {
      const tpm = key.tpm;
      const amount = tokens.input + tokens.output;
      checks.push({
        reservation: { counter: counterName(key, 'tpm'), window: minuteWindow, amount },
        // Admitted while the minute's earlier use is under the limit: a request larger than the whole limit still runs alone.
        isWithin: (total) => total - amount < tpm,
        refusal: () => refusalOf(429, 'RATE_LIMITED', 'tpm', `The Detour key "${key.name}" is limited to ${tpm} tokens per minute.`, key, { 'retry-after': '5' }),
      });
    }
    if (key.maxParallel !== undefined) {
      const max = key.maxParallel;
      checks.push({
        reservation: { counter: counterName(key, 'parallel'), window: parallelWindow, amount: 1 },
        isWithin: (total) => total <= max,
        refusal: () => refusalOf(429, 'RATE_LIMITED', 'max_parallel', `The Detour key "${key.name}" may have at most ${max} requests in flight.`, key, { 'retry-after': '1' }),
      });
    }
    const store = this.options.store;
    let totals: number[];
    try {
      totals = await Promise.all(checks.map(({ reservation }) => store.addToCounter(reservation.counter, reservation.amount, reservation.window, at)));
    } catch {
      // The store is closed or broken (a Redis store falls back to local state rather than throw): serve, uncounted.
      return { isAdmitted: true, key };
    }
    const failed = checks.findIndex((check, index) => !check.isWithin(totals[index] as number));
    if (failed !== -1) {
      await Promise.all(checks.map(({ reservation }) => store.addToCounter(reservation.counter, -reservation.amount, reservation.window, at).catch(() => 0)));
      const check = checks[failed] as (typeof checks)[number];
      const total = totals[failed] as number;
      // A budget that refuses a request is spent, as far as its alerts go.
      if (check.reservation.counter.includes(':spend:')) void this.checkBudget(key, toNanoUsd(key.budgetUsd ?? 0), at);
      return { isAdmitted: false, refusal: check.refusal(total) };
    }
    const name = ticketName(request.requestId, key.name);
    const ticket: Ticket = {
      key,
      at,
      tokens: tokens.input + tokens.output,
      nanoUsd,
      reservations: checks.map((check) => check.reservation).filter((reservation) => !reservation.counter.endsWith(':rpm')),
      budgetCounter: checks.find((check) => check.reservation.counter.includes(':spend:'))?.reservation.counter,
      timer: setTimeout(() => this.abandon(name, ticket), abandonedTicketMs),
    };
    ticket.timer.unref();
    const queue = this.tickets.get(name);
    if (queue) queue.push(ticket);
    else this.tickets.set(name, [ticket]);
    return { isAdmitted: true, key };
  }

  /** Announces 80 % and 100 % of a budget once per key, period and threshold (once per cluster). */
  private async checkBudget(key: VirtualKey, totalNano: number, at: number): Promise<void> {
    if (key.budgetUsd === undefined || key.period === undefined || !this.options.onBudgetAlert) return;
    const spentUsd = Math.max(0, totalNano) / nanoUsdPerUsd;
    const { start, end } = periodBounds(key.period, at);
    for (const threshold of [0.8, 1] as const) {
      if (spentUsd < key.budgetUsd * threshold) return;
      const name = `alert:budget:${key.id}:${start}:${threshold}`;
      if (this.alerted.has(name)) continue;
      if (this.alerted.size >= 10_000) this.alerted.clear();
      this.alerted.add(name);
      const isMine = await this.options.store.acquireLease(name, this.options.instanceId ?? 'local', end - at + 60_000).catch(() => true);
      if (isMine) this.options.onBudgetAlert({ key, threshold, spentUsd, budgetUsd: key.budgetUsd, periodEnd: end });
    }
  }
}

/** What a key has used in its windows; undefined where the key has no such limit. */
export interface KeyUsage {
  requestsLastMinute?: number | undefined;
  tokensLastMinute?: number | undefined;
  inFlight?: number | undefined;
  spentUsd?: number | undefined;
  periodStart?: number | undefined;
  periodEnd?: number | undefined;
}

function ticketName(requestId: string, keyName: string): string {
  return `${requestId}\n${keyName}`;
}

function counterName(key: VirtualKey, limit: 'rpm' | 'tpm' | 'parallel'): string {
  return `key:${key.id}:${limit}`;
}

function budgetCounter(key: VirtualKey, at: number): string {
  return `key:${key.id}:spend:${periodBounds(key.period ?? 'day', at).start}`;
}

function budgetWindow(key: VirtualKey): WindowSpec {
  return { windowMs: longestPeriodMs[key.period ?? 'day'], bucketCount: 1 };
}

function refusalOf(status: Refusal['status'], code: Refusal['code'], reason: RefusalReason, message: string, key?: VirtualKey, headers: Record<string, string> = {}): Refusal {
  return { status, code, reason, message, headers, key };
}

function refuse(status: Refusal['status'], code: Refusal['code'], reason: RefusalReason, message: string, key?: VirtualKey): { refusal: Refusal } {
  return { refusal: refusalOf(status, code, reason, message, key, { 'www-authenticate': 'Bearer realm="detour"' }) };
}
