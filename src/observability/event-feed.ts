import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { RequestOutcome } from './outcome.js';

export type FeedEventType = 'failover' | 'circuit' | 'health' | 'request_failed' | 'incident' | 'continued' | 'recovery' | 'slow_calls';

/** One line of the dashboard's live feed. Messages hold ids and codes only, never a key or a body. */
export interface FeedEvent {
  id: number;
  /** Epoch ms. */
  at: number;
  type: FeedEventType;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  route?: string | undefined;
  target?: string | undefined;
  data: Record<string, string | number | boolean | null>;
}

export type FeedInput = Omit<FeedEvent, 'id' | 'at'>;
export type FeedListener = (event: FeedEvent) => void;

/** Repeats of one kind of event (same route, same targets) within this are folded into one line with a count. */
const foldMs = 5000;
const capacity = 300;

interface Fold {
  firstAt: number;
  count: number;
  template: FeedInput;
}

/**
 * The live feed behind the dashboard's event list and its server-sent events: failovers,
 * circuit and health changes, failed requests, incidents. It keeps the last few hundred events
 * for a new viewer; engine listeners only queue, and subscribers are called on a later turn of
 * the event loop. During an outage, one failover per request would drown the feed, so repeats
 * within five seconds are folded into one line with a count.
 */
export class EventFeed {
  private readonly events: FeedEvent[] = [];
  private readonly listeners = new Set<FeedListener>();
  private readonly folds = new Map<string, Fold>();
  private outbox: FeedEvent[] = [];
  private nextId = 1;
  private readonly unsubscribes: Array<() => void> = [];

  constructor(
    events: EventBus,
    private readonly clock: Clock,
  ) {
    this.unsubscribes.push(
      events.on('failover.performed', (event) =>
        this.fold(`failover:${event.route}:${event.from}:${event.to}`, {
          type: 'failover',
          severity: 'warning',
          message: `route ${event.route}: failed over from ${event.from} to ${event.to} (${event.code})`,
          route: event.route,
          target: event.from,
          data: { from: event.from, to: event.to, code: event.code },
        }),
      ),
      events.on('circuit.opened', (event) =>
        this.push({
          type: 'circuit',
          severity: 'critical',
          message: `circuit of ${event.target} opened (${event.reason.replace('_', ' ')}); next probe in ${Math.round(event.cooldownMs / 1000)} s`,
          target: event.target,
          data: { state: 'open', reason: event.reason, cooldown_ms: event.cooldownMs, until: event.until },
        }),
      ),
      events.on('circuit.half_opened', (event) =>
        this.push({ type: 'circuit', severity: 'info', message: `circuit of ${event.target} half-open: one probe request let through`, target: event.target, data: { state: 'half_open' } }),
      ),
      events.on('circuit.closed', (event) =>
        this.push({ type: 'circuit', severity: 'info', message: `circuit of ${event.target} closed (${event.reason.replace('_', ' ')})`, target: event.target, data: { state: 'closed', reason: event.reason } }),
      ),
      events.on('stream.continued', (event) =>
        this.fold(`continued:${event.route}:${event.from}:${event.to}`, {
          type: 'continued',
          severity: 'warning',
          message: `route ${event.route}: a stream broke on ${event.from} (${event.code}) and was continued on ${event.to} after ${event.keptChars} characters`,
          route: event.route,
          target: event.from,
          data: { from: event.from, to: event.to, code: event.code, kept_chars: event.keptChars },
        }),
      ),
      events.on('stream.not_continued', (event) =>
        this.fold(`not-continued:${event.route}:${event.target}:${event.reason}`, {
          type: 'continued',
          severity: 'critical',
          message: `route ${event.route}: a stream broke on ${event.target} (${event.code}) and could not be continued (${event.reason.replace('_', ' ')}): it ended with an error event`,
          route: event.route,
          target: event.target,
          data: { target: event.target, code: event.code, reason: event.reason },
        }),
      ),
      events.on('calls.slow', (event) =>
        this.push({
          type: 'slow_calls',
          severity: 'warning',
          message: `${event.moved.length} calls to ${event.target} waited past its slow-call limit at once (${[...new Set(event.moved.map((entry) => `${entry.wait.replace('_', ' ')} > ${entry.limitMs} ms`))].join(', ')}): moved on`,
          target: event.target,
          data: { moved: event.moved.length, longest_wait_ms: Math.max(...event.moved.map((entry) => entry.waitedMs)) },
        }),
      ),
      events.on('recovery.queued', (event) =>
        this.fold(`recovery-queued:${event.route}`, {
          type: 'recovery',
          severity: 'critical',
          message: `route ${event.route}: every target is down; requests are held for recovery`,
          route: event.route,
          data: { state: 'queued' },
        }),
      ),
      events.on('recovery.probed', (event) =>
        this.fold(`recovery-probed:${event.target}:${event.isSuccess}`, {
          type: 'recovery',
          severity: event.isSuccess ? 'info' : 'warning',
          message: `route ${event.route}: recovery probe of ${event.target} ${event.isSuccess ? 'succeeded: held requests released to it' : 'failed'}`,
          route: event.route,
          target: event.target,
          data: { target: event.target, success: event.isSuccess, duration_ms: event.durationMs },
        }),
      ),
      events.on('health.changed', (event) =>
        this.push({
          type: 'health',
          severity: event.to === 'unhealthy' ? 'critical' : 'info',
          message: `health of ${event.target}: ${event.from} → ${event.to}`,
          target: event.target,
          data: { from: event.from, to: event.to },
        }),
      ),
    );
  }

  /** Fed by the outcome pipeline: requests no target could answer. */
  recordOutcome(outcome: RequestOutcome): void {
    if (outcome.outcome !== 'failure') return;
    this.fold(`failed:${outcome.route}:${outcome.errorCode ?? outcome.status}`, {
      type: 'request_failed',
      severity: 'critical',
      message: `route ${outcome.route}: request failed with ${outcome.status} ${outcome.errorCode ?? ''} after ${outcome.attempts.length} attempt(s)`.trimEnd(),
      route: outcome.route,
      data: { status: outcome.status, code: outcome.errorCode ?? null },
    });
  }

  push(input: FeedInput): FeedEvent {
    const event: FeedEvent = { ...input, id: this.nextId++, at: this.clock.now() };
    this.events.push(event);
    if (this.events.length > capacity) this.events.shift();
    this.outbox.push(event);
    if (this.outbox.length === 1) setImmediate(() => this.deliver());
    return event;
  }

  /** Emits the folded repeats whose window has passed; called every second or so. */
  tick(): void {
    const now = this.clock.now();
    for (const [key, fold] of this.folds) {
      if (now - fold.firstAt < foldMs) continue;
      this.folds.delete(key);
      if (fold.count > 0) this.push({ ...fold.template, message: `${fold.template.message} (+${fold.count} more)`, data: { ...fold.template.data, count: fold.count } });
    }
  }

  /** The most recent events, oldest first. */
  recent(limit = 100): FeedEvent[] {
    return this.events.slice(-limit);
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.listeners.clear();
  }

  /** The first of a kind goes out at once; repeats within the fold window are counted and go out together. */
  private fold(key: string, input: FeedInput): void {
    const fold = this.folds.get(key);
    if (fold) {
      fold.count++;
      return;
    }
    this.folds.set(key, { firstAt: this.clock.now(), count: 0, template: input });
    this.push({ ...input, data: { ...input.data, count: 1 } });
  }

  private deliver(): void {
    const batch = this.outbox;
    this.outbox = [];
    for (const event of batch) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch {
          // One broken viewer must not stop the others.
        }
      }
    }
  }
}
