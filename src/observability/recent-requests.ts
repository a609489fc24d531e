import type { RequestOutcome } from './outcome.js';
import { continuationOf, type LoggedRequest } from './request-log/log-query.js';

/** What the recent view keeps of an outcome: its plain fields, none of its closures (they hold the request's bodies). */
type KeptOutcome = Pick<
  RequestOutcome,
  | 'requestId'
  | 'startedAt'
  | 'route'
  | 'clientKeyId'
  | 'format'
  | 'stream'
  | 'target'
  | 'provider'
  | 'model'
  | 'status'
  | 'errorCode'
  | 'errorMessage'
  | 'isFailover'
  | 'isDegraded'
  | 'latencyMs'
  | 'ttftMs'
  | 'tokens'
  | 'cost'
  | 'priority'
  | 'queueWaitMs'
  | 'attempts'
>;

/**
 * The last few hundred requests in memory, in the request log's shape: the dashboard's recent
 * requests work with the request log turned off, and cost no disk read. Each is kept as it
 * came and put in the log's shape only when read: every request is recorded, few are read.
 */
export class RecentRequests {
  /** A ring: `next` is where the next one goes, the oldest once the ring is full. */
  private readonly entries: KeptOutcome[] = [];
  private next = 0;

  constructor(private readonly capacity = 200) {}

  record(outcome: RequestOutcome): void {
    this.entries[this.next] = keep(outcome);
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  latest(limit: number): LoggedRequest[] {
    const count = Math.min(Math.max(0, limit), this.entries.length);
    const newestFirst: LoggedRequest[] = [];
    for (let index = 1; index <= count; index++) {
      const entry = this.entries[(this.next - index + this.entries.length) % this.entries.length];
      if (entry) newestFirst.push(fromOutcome(entry));
    }
    return newestFirst;
  }
}

function keep(outcome: RequestOutcome): KeptOutcome {
  return {
    requestId: outcome.requestId,
    startedAt: outcome.startedAt,
    route: outcome.route,
    clientKeyId: outcome.clientKeyId,
    format: outcome.format,
    stream: outcome.stream,
    target: outcome.target,
    provider: outcome.provider,
    model: outcome.model,
    status: outcome.status,
    errorCode: outcome.errorCode,
    errorMessage: outcome.errorMessage,
    isFailover: outcome.isFailover,
    isDegraded: outcome.isDegraded,
    latencyMs: outcome.latencyMs,
    ttftMs: outcome.ttftMs,
    tokens: outcome.tokens,
    cost: outcome.cost,
    priority: outcome.priority,
    queueWaitMs: outcome.queueWaitMs,
    // A copy of the list, not of the records: a hedge's loser may still add its record to the run's list later.
    attempts: outcome.attempts.slice(),
  };
}

export function fromOutcome(outcome: KeptOutcome): LoggedRequest {
  const attempts = outcome.attempts.map((attempt) => ({
    target: attempt.target,
    provider: attempt.provider,
    model: attempt.model,
    status: attempt.status ?? null,
    error_code: attempt.code ?? null,
    kind: attempt.kind ?? null,
    duration_ms: Math.round(attempt.durationMs),
    retry_after_ms: attempt.retryAfterMs ?? null,
    role: attempt.role ?? null,
  }));
  return {
    id: outcome.requestId,
    time: new Date(outcome.startedAt).toISOString(),
    route: outcome.route,
    client_key_id: outcome.clientKeyId ?? null,
    format: outcome.format,
    stream: outcome.stream,
    target: outcome.target ?? null,
    provider: outcome.provider ?? null,
    model: outcome.model ?? null,
    status: outcome.status,
    error_code: outcome.errorCode ?? null,
    error_message: outcome.errorMessage ?? null,
    failover: outcome.isFailover,
    degraded: outcome.isDegraded,
    latency_ms: Math.round(outcome.latencyMs),
    ttft_ms: outcome.ttftMs === undefined ? null : Math.round(outcome.ttftMs),
    usage: outcome.tokens ? { input_tokens: outcome.tokens.input, output_tokens: outcome.tokens.output, cached_tokens: outcome.tokens.cachedInput } : null,
    cost_usd: outcome.cost.successUsd ?? null,
    extra_cost_usd: { failed: outcome.cost.failedUsd, hedge: outcome.cost.hedgeUsd, mirror: outcome.cost.mirrorUsd },
    priority: outcome.priority ?? null,
    queue_wait_ms: outcome.queueWaitMs === undefined ? null : Math.round(outcome.queueWaitMs),
    continuation: continuationOf(attempts),
    attempts,
  };
}
