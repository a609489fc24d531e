import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../../src/core/events.js';
import type { RequestOutcome } from '../../src/observability/outcome.js';
import { RecentRequests } from '../../src/observability/recent-requests.js';
import { continuationOf } from '../../src/observability/request-log/log-query.js';

/** What the dashboard must get for an outcome: the request log's shape, field by field. */
function expected(outcome: RequestOutcome) {
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

const served: AttemptRecord = { target: 'openai/gpt', provider: 'openai', model: 'gpt', status: 200, durationMs: 12.6 };
const limited: AttemptRecord = { target: 'openai/gpt', provider: 'openai', model: 'gpt', status: 429, code: 'RATE_LIMITED', kind: 'retryable', durationMs: 3.2, retryAfterMs: 1000 };
const continued: AttemptRecord = { target: 'claude/sonnet', provider: 'claude', model: 'sonnet', status: 200, durationMs: 40, role: 'continuation' };

function outcome(index: number, overrides: Partial<RequestOutcome> = {}): RequestOutcome {
  return {
    requestId: `req_${index}`,
    route: 'chat',
    format: 'openai',
    stream: false,
    status: 200,
    target: 'openai/gpt',
    provider: 'openai',
    model: 'gpt',
    attempts: [served],
    isFailover: false,
    isDegraded: false,
    startedAt: 1_796_000_000_000 + index,
    latencyMs: 20.4 + index,
    outcome: 'success',
    tokens: { input: 10, output: 5, cachedInput: 2 },
    cost: { successUsd: 0.0012, failedUsd: 0, hedgeUsd: 0, mirrorUsd: 0, isPriced: true },
    bodies: () => ({}),
    ...overrides,
  };
}

describe('RecentRequests', () => {
  it('reads every kind of outcome back in the request log’s shape, newest first', () => {
    const recent = new RecentRequests(10);
    const outcomes = [
      outcome(1),
      outcome(2, { stream: true, ttftMs: 3.7, clientKeyId: 'team-a', priority: 'high', queueWaitMs: 41.5 }),
      outcome(3, { status: 503, target: undefined, provider: undefined, model: undefined, attempts: [limited, limited], errorCode: 'ALL_TARGETS_FAILED', errorMessage: 'every target failed', outcome: 'failure', tokens: undefined, cost: { successUsd: undefined, failedUsd: 0.5, hedgeUsd: 0.25, mirrorUsd: 0.125, isPriced: false } }),
      outcome(4, { attempts: [], status: 400, errorCode: 'INVALID_REQUEST', format: 'anthropic', outcome: 'client_error', target: undefined }),
      outcome(5, { attempts: [served, continued], isFailover: true, isDegraded: true, stream: true }),
      outcome(6, { attempts: [limited], status: 429, errorCode: 'RATE_LIMITED' }),
    ];
    for (const entry of outcomes) recent.record(entry);
    expect(recent.latest(50)).toEqual(outcomes.map(expected).reverse());
    expect(recent.latest(2).map((row) => row.id)).toEqual(['req_6', 'req_5']);
  });

  it('keeps the last `capacity` once the ring has gone round, and a list a hedge’s loser adds to later stays as it was', () => {
    const recent = new RecentRequests(3);
    const attempts = [served, limited];
    for (let index = 1; index <= 7; index++) recent.record(outcome(index, index === 6 ? { attempts } : {}));
    attempts.push(continued);
    const rows = recent.latest(10);
    expect(rows.map((row) => row.id)).toEqual(['req_7', 'req_6', 'req_5']);
    expect(rows[1]?.attempts.length).toBe(2);
    expect(rows).toEqual([outcome(7), outcome(6, { attempts: [served, limited] }), outcome(5)].map(expected));
    expect(new RecentRequests(3).latest(10)).toEqual([]);
  });
});
