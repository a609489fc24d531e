import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KeyedCounter, KeyedHistogram } from './keyed-metrics.js';

const latencyBuckets = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

/**
 * Every Prometheus metric Detour exposes, in one registry per gateway (two gateways in one
 * process, as in tests, never share counters). Labels hold route names, target ids
 * (`provider/model#key-index`), error codes and client key ids: never a key.
 */
export class DetourMetrics {
  // The series every request adds to are keyed (`KeyedCounter`, `KeyedHistogram`): prom-client's
  // own cost ~3.7 µs per request for these seven; the rest change rarely and stay prom-client's.
  readonly registry = new Registry();

  readonly requests = new KeyedCounter({
    name: 'detour_requests_total',
    help: 'Client requests finished, by route and HTTP status.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly rejectedRequests = new Counter({
    name: 'detour_rejected_requests_total',
    help: 'Requests refused before any upstream was called, by method, the served path they came to as declared ("other" for a path Detour does not serve), HTTP status and error code.',
    labelNames: ['method', 'path', 'status', 'code'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new KeyedHistogram({
    name: 'detour_request_duration_seconds',
    help: 'Time from receiving a request to its last byte, by route and outcome (success, failure, client_error).',
    labelNames: ['route', 'outcome'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });

  readonly timeToFirstToken = new KeyedHistogram({
    name: 'detour_time_to_first_token_seconds',
    help: 'Streaming requests: time from receiving the request to the first token sent, by route and serving target.',
    labelNames: ['route', 'target', 'region'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });

  readonly attempts = new KeyedCounter({
    name: 'detour_upstream_attempts_total',
    help: 'Upstream calls, by target, outcome (success, failure, client_error) and error code (none on success).',
    labelNames: ['route', 'target', 'provider', 'model', 'outcome', 'code', 'region'] as const,
    registers: [this.registry],
  });

  readonly attemptDuration = new KeyedHistogram({
    name: 'detour_upstream_duration_seconds',
    help: 'Duration of one upstream call (to the answer, or to the first event of a stream), by target and outcome.',
    labelNames: ['target', 'outcome', 'region'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });

  readonly failovers = new Counter({
    name: 'detour_failovers_total',
    help: 'Moves from one target to the next within a request, by route, targets and the error that caused it.',
    labelNames: ['route', 'from', 'to', 'code'] as const,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'detour_retries_total',
    help: 'Upstream calls that retried the same target after a failure, by route, target and the error retried.',
    labelNames: ['route', 'target', 'code'] as const,
    registers: [this.registry],
  });

  readonly streamContinuations = new Counter({
    name: 'detour_stream_continuations_total',
    help: 'Streams broken after their start and continued on another target, by route, targets and the error that broke them.',
    labelNames: ['route', 'from', 'to', 'code'] as const,
    registers: [this.registry],
  });

  readonly streamsNotContinued = new Counter({
    name: 'detour_streams_not_continued_total',
    help: 'Streams broken after their start that could not be continued (a tool call, no target left, the deadline), by route, target and reason.',
    labelNames: ['route', 'target', 'reason'] as const,
    registers: [this.registry],
  });

  readonly recoveryProbes = new Counter({
    name: 'detour_recovery_probes_total',
    help: 'Recovery probes (a waiting request let through to an open circuit while its route was down), by route, target and outcome.',
    labelNames: ['route', 'target', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly recoveryWaits = new Counter({
    name: 'detour_recovery_waits_total',
    help: 'Requests that found their route down and waited for it, by route and how the wait ended (recovered, gave_up, client_gone).',
    labelNames: ['route', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly recoveryWaiting = new Gauge({
    name: 'detour_recovery_waiting',
    help: 'Requests waiting now for their down route to recover, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'detour_queue_depth',
    help: 'Requests waiting now in a route\'s queue, by route and priority (high, normal, low; recovery: waiting for a down route).',
    labelNames: ['route', 'priority'] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'detour_queue_wait_seconds',
    help: 'Time a request waited in its route\'s queue for room under its targets\' rate limits (requests that waited), by route and priority.',
    labelNames: ['route', 'priority'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
    registers: [this.registry],
  });

  readonly targetLimitHeadroom = new Gauge({
    name: 'detour_target_limit_headroom',
    help: 'What is left now of a target\'s rate limit, by target, limit (requests, tokens) and source (declared: of its pacing window\'s allowance; learned: as the provider\'s headers said, less what was sent since).',
    labelNames: ['target', 'limit', 'source'] as const,
    registers: [this.registry],
  });

  readonly targetLimit = new Gauge({
    name: 'detour_target_limit',
    help: 'A target\'s rate limit, by target, limit and source: the declared pacing window\'s allowance, or the limit the provider stated.',
    labelNames: ['target', 'limit', 'source'] as const,
    registers: [this.registry],
  });

  readonly hedges = new Counter({
    name: 'detour_hedges_total',
    help: 'Hedged (raced) upstream calls, by route and target.',
    labelNames: ['route', 'target'] as const,
    registers: [this.registry],
  });

  readonly mirrors = new Counter({
    name: 'detour_mirrors_total',
    help: 'Mirrored (shadow) upstream calls, by route and target.',
    labelNames: ['route', 'target'] as const,
    registers: [this.registry],
  });

  readonly mirrorComparisons = new Histogram({
    name: 'detour_mirror_similarity_ratio',
    help: 'Word-set similarity of a mirrored answer to the served one (1: same words), by route and mirror target.',
    labelNames: ['route', 'mirror'] as const,
    buckets: [0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1],
    registers: [this.registry],
  });

  readonly mirrorLatencyRatio = new Histogram({
    name: 'detour_mirror_latency_ratio',
    help: 'A mirrored call’s latency over the served call’s, by route and mirror target.',
    labelNames: ['route', 'mirror'] as const,
    buckets: [0.25, 0.5, 0.8, 1, 1.25, 2, 4],
    registers: [this.registry],
  });

  readonly healthProbes = new Counter({
    name: 'detour_health_probes_total',
    help: 'Active health checks sent, by target, mode (models, completion) and result (healthy, unhealthy).',
    labelNames: ['target', 'mode', 'result'] as const,
    registers: [this.registry],
  });

  readonly healthProbeTokens = new Counter({
    name: 'detour_health_probe_tokens_total',
    help: 'Tokens spent by completion-mode health checks, by target and type (input, output).',
    labelNames: ['target', 'type'] as const,
    registers: [this.registry],
  });

  readonly healthProbeCost = new Counter({
    name: 'detour_health_probe_cost_usd_total',
    help: 'What completion-mode health checks cost, in USD, by target.',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly circuitState = new Gauge({
    name: 'detour_circuit_state',
    help: 'Circuit breaker state per target: 1 for the current state (closed, open, half_open), 0 for the others.',
    labelNames: ['target', 'state', 'region'] as const,
    registers: [this.registry],
  });

  readonly slowCalls = new Counter({
    name: 'detour_slow_calls_total',
    help: 'Calls moved on by slow-call detection (several calls to a target waited past its norm at once), by target and what they waited for (first_token, answer, next_event).',
    labelNames: ['target', 'wait'] as const,
    registers: [this.registry],
  });

  readonly circuitTransitions = new Counter({
    name: 'detour_circuit_transitions_total',
    help: 'Circuit breaker transitions per target, by the state entered.',
    labelNames: ['target', 'state', 'region'] as const,
    registers: [this.registry],
  });

  readonly targetHealth = new Gauge({
    name: 'detour_target_health',
    help: 'Active health-check verdict per target: 1 for the current state (healthy, unhealthy, unknown), 0 for the others.',
    labelNames: ['target', 'state', 'region'] as const,
    registers: [this.registry],
  });

  readonly tokens = new KeyedCounter({
    name: 'detour_tokens_total',
    help: 'Tokens of served answers, by route, target and type (input, output, cached_input; cached_input is part of input).',
    labelNames: ['route', 'target', 'type'] as const,
    registers: [this.registry],
  });

  readonly cost = new KeyedCounter({
    name: 'detour_cost_usd_total',
    help: 'Spend in USD from the price table, by route, target, client key and kind: success (answered requests), failed, hedge, mirror.',
    labelNames: ['route', 'target', 'client_key', 'kind'] as const,
    registers: [this.registry],
  });

  readonly clientKeyRequests = new KeyedCounter({
    name: 'detour_client_key_requests_total',
    help: 'Requests by client key (virtual key name; "none" without one, "other" past the first thousand), outcome and error code (refusals: UNAUTHORIZED, FORBIDDEN, RATE_LIMITED, BUDGET_EXCEEDED).',
    labelNames: ['client_key', 'outcome', 'code'] as const,
    registers: [this.registry],
  });

  readonly clientKeyBudget = new Gauge({
    name: 'detour_client_key_budget_usd',
    help: "A client key's budget per period, in USD.",
    labelNames: ['client_key', 'period'] as const,
    registers: [this.registry],
  });

  readonly clientKeySpend = new Gauge({
    name: 'detour_client_key_spend_usd',
    help: "A client key's spend in its current budget period, in USD (reservations of requests in flight included).",
    labelNames: ['client_key'] as const,
    registers: [this.registry],
  });

  readonly clientKeyLimit = new Gauge({
    name: 'detour_client_key_limit',
    help: "A client key's limits: rpm, tpm, max_parallel.",
    labelNames: ['client_key', 'limit'] as const,
    registers: [this.registry],
  });

  readonly clientKeyUsage = new Gauge({
    name: 'detour_client_key_usage',
    help: "A client key's use of each limit now: requests and tokens in the last minute, requests in flight.",
    labelNames: ['client_key', 'limit'] as const,
    registers: [this.registry],
  });

  readonly budgetAlerts = new Counter({
    name: 'detour_client_key_budget_alerts_total',
    help: 'Budget alerts raised, by client key and threshold (0.8, 1).',
    labelNames: ['client_key', 'threshold'] as const,
    registers: [this.registry],
  });

  readonly unpriced = new Counter({
    name: 'detour_unpriced_requests_total',
    help: 'Requests whose model has no known price, so their cost is missing from detour_cost_usd_total.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: 'detour_config_reloads_total',
    help: 'Config reloads (SIGHUP, server.watch_config, POST /admin/api/reload), by result: success, or failure (the new config was invalid and the old one stayed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly requestLogWritten = new Counter({
    name: 'detour_request_log_written_total',
    help: 'Records written to the request log.',
    registers: [this.registry],
  });

  readonly requestLogDropped = new Counter({
    name: 'detour_request_log_dropped_total',
    help: 'Records lost by the request log, by reason: queue_full, write_failed, unavailable.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly requestLogUp = new Gauge({
    name: 'detour_request_log_up',
    help: 'Whether the request log can be written now (1) or not (0): a shared database unreachable, a file that could not be opened.',
    registers: [this.registry],
  });

  readonly requestLogQueue = new Gauge({
    name: 'detour_request_log_queue_depth',
    help: 'Records waiting to be written to the request log.',
    registers: [this.registry],
  });

  readonly alerts = new Counter({
    name: 'detour_alerts_total',
    help: 'Alert notifications by sink, type, state (firing, resolved) and delivery result (sent, failed, rate_limited, dropped).',
    labelNames: ['sink', 'type', 'state', 'result'] as const,
    registers: [this.registry],
  });

  readonly incidentsActive = new Gauge({
    name: 'detour_incidents_active',
    help: 'Open incidents by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly sloBurnRate = new Gauge({
    name: 'detour_slo_burn_rate',
    help: 'Error-budget burn rate per route SLO objective (availability, latency) over a window; 1 spends the budget exactly over the SLO period.',
    labelNames: ['route', 'objective', 'window'] as const,
    registers: [this.registry],
  });

  readonly stateStoreMode = new Gauge({
    name: 'detour_state_store_mode',
    help: 'Where circuit and health state lives: 1 for the current mode (memory, connecting, redis, local-fallback).',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly stateStoreFallbacks = new Gauge({
    name: 'detour_state_store_fallbacks',
    help: 'How often the shared state store fell back to local state since the process started.',
    registers: [this.registry],
  });

  readonly observabilityDropped = new Counter({
    name: 'detour_observability_dropped_events_total',
    help: 'Finished requests not counted because the observability queue was full (the event loop was starved).',
    registers: [this.registry],
  });

  /** Gauges read from live state (circuits, health) are refreshed just before a scrape. */
  private readonly refreshers: Array<() => void> = [];

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  onScrape(refresh: () => void): void {
    this.refreshers.push(refresh);
  }

  text(): Promise<string> {
    for (const refresh of this.refreshers) refresh();
    return this.registry.metrics();
  }
}
