import type { Clock } from '../../core/clock.js';
import type { Logger } from '../logger.js';
import type { DetourMetrics } from '../metrics/metrics.js';
import type { AlertSettings, AlertSinkSettings } from '../settings.js';
import { slackPayload, webhookPayload } from './alert-format.js';
import type { AlertMessage } from './incident.js';

/** Posts one message; rejects with `retryable` when trying again may help. */
export type AlertPoster = (sink: AlertSinkSettings, body: unknown, timeoutMs: number) => Promise<void>;

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly isRetryable: boolean,
  ) {
    super(message);
  }
}

/** POST JSON with `fetch`; 2xx is delivered, 429/5xx/network errors are worth another try. */
export const postJson: AlertPoster = async (sink, body, timeoutMs) => {
  let response: Response;
  try {
    response = await fetch(sink.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'detour-alerts', ...(sink.type === 'webhook' ? sink.headers : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new DeliveryError(error instanceof Error ? error.message : String(error), true);
  }
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return;
  throw new DeliveryError(`HTTP ${response.status}`, response.status === 429 || response.status >= 500);
};

/** Messages queued per sink before the oldest is dropped (a dead webhook must not grow memory). */
const maxQueue = 100;

interface SinkState {
  sink: AlertSinkSettings;
  queue: AlertMessage[];
  isSending: boolean;
  sentAt: number[];
  /** Incidents whose firing was announced here: their recovery always goes, others' never. */
  announced: Set<string>;
  isFailureLogged: boolean;
}

export interface DeliveryDeps {
  clock: Clock;
  logger: Logger;
  metrics: DetourMetrics;
  post?: AlertPoster;
  /** Waits between retries; injected so that tests need not sleep. */
  wait?: (ms: number) => Promise<void>;
}

/**
 * Sends alert messages to every sink, in order per sink, off the request path: queued, posted
 * with a timeout, retried with exponential backoff, rate-limited per sink. Failures are counted
 * in `detour_alerts_total{result}` and logged once per sink until it works again.
 */
export class AlertDelivery {
  private readonly states: SinkState[];
  private readonly post: AlertPoster;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly settings: AlertSettings,
    private readonly deps: DeliveryDeps,
  ) {
    this.states = settings.sinks.map((sink) => ({ sink, queue: [], isSending: false, sentAt: [], announced: new Set(), isFailureLogged: false }));
    this.post = deps.post ?? postJson;
    this.wait = deps.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
  }

  deliver(message: AlertMessage): void {
    for (const state of this.states) {
      if (state.sink.types && !state.sink.types.includes(message.incident.type)) continue;
      if (!this.admit(state, message)) continue;
      state.queue.push(message);
      if (state.queue.length > maxQueue) {
        const dropped = state.queue.shift() as AlertMessage;
        this.count(state, dropped, 'dropped');
      }
      if (!state.isSending) void this.drain(state);
    }
  }

  /** Resolves when every queue is empty (tests, shutdown). */
  settled(): Promise<void> {
    if (this.states.every((state) => !state.isSending)) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Rate limit: new incidents only; the recovery of an announced one always goes. */
  private admit(state: SinkState, message: AlertMessage): boolean {
    const key = message.incident.key;
    if (message.state === 'resolved') {
      if (!state.announced.delete(key)) return false;
      return true;
    }
    const now = this.deps.clock.now();
    state.sentAt = state.sentAt.filter((at) => now - at < 60_000);
    if (state.sentAt.length >= this.settings.maxPerMinute) {
      this.count(state, message, 'rate_limited');
      return false;
    }
    state.sentAt.push(now);
    state.announced.add(key);
    return true;
  }

  private async drain(state: SinkState): Promise<void> {
    state.isSending = true;
    try {
      for (let message = state.queue.shift(); message; message = state.queue.shift()) await this.send(state, message);
    } finally {
      state.isSending = false;
      if (this.states.every((other) => !other.isSending)) {
        for (const resolve of this.idle) resolve();
        this.idle.clear();
      }
    }
  }

  private async send(state: SinkState, message: AlertMessage): Promise<void> {
    const body = state.sink.type === 'slack' ? slackPayload(message) : webhookPayload(message);
    let delayMs = this.settings.deliveryBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.post(state.sink, body, this.settings.deliveryTimeoutMs);
        this.count(state, message, 'sent');
        if (state.isFailureLogged) this.deps.logger.info({ sink: state.sink.name }, 'alert sink delivers again');
        state.isFailureLogged = false;
        return;
      } catch (error) {
        const isRetryable = error instanceof DeliveryError ? error.isRetryable : true;
        if (!isRetryable || attempt >= this.settings.deliveryAttempts) {
          this.count(state, message, 'failed');
          if (!state.isFailureLogged) {
            state.isFailureLogged = true;
            this.deps.logger.error({ sink: state.sink.name, attempts: attempt, err: error instanceof Error ? error.message : String(error) }, 'alert could not be delivered');
          }
          return;
        }
        await this.wait(delayMs);
        delayMs = Math.min(delayMs * 2, 60_000);
      }
    }
  }

  private count(state: SinkState, message: AlertMessage, result: 'sent' | 'failed' | 'rate_limited' | 'dropped'): void {
    this.deps.metrics.alerts.inc({ sink: state.sink.name, type: message.incident.type, state: message.state, result });
  }
}
