import type { RequestOutcome } from './outcome.js';
import { continuationOf, type LoggedRequest } from './request-log/log-query.js';

/**
 * The last few hundred requests in memory, in the request log's shape: the dashboard's recent
 * requests work with the request log turned off, and cost no disk read.
 */
export class RecentRequests {
  private readonly entries: LoggedRequest[] = [];

  constructor(private readonly capacity = 200) {}

  record(outcome: RequestOutcome): void {
    this.entries.push(fromOutcome(outcome));
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first. */
  latest(limit: number): LoggedRequest[] {
    return this.entries.slice(-limit).reverse();
  }
}

export function fromOutcome(outcome: RequestOutcome): LoggedRequest {
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
