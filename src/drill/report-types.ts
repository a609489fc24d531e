/**
 * The shape of `report.json`: stable, documented, for CI scripts to read. Times in a scenario
 * are milliseconds from the scenario's start; durations are milliseconds; null means "not
 * observed" (no sample, never detected, not recovered before the run ended).
 */

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface TimeSeriesBucket {
  startMs: number;
  /** Successful requests sent in this bucket, by serving target, aligned with `TimeSeries.targets`. */
  served: number[];
  /** Requests sent in this bucket that did not succeed. */
  errors: number;
  /** p95 latency of the bucket's successful requests. */
  p95Ms: number | null;
}

export interface TimeSeries {
  bucketMs: number;
  targets: string[];
  buckets: TimeSeriesBucket[];
}

export interface VerdictCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface RequestCounts {
  sent: number;
  succeeded: number;
  /** Clear error answers (status + Detour error code). */
  errors: number;
  /** Streams cut after their first token, with an explicit error event. */
  cutStreams: number;
  /** No answer within the route's deadline plus a grace: the client gave up. */
  hung: number;
  /** Failures without a clear error: dropped connections, bodies that are not errors, streams that just stop. */
  broken: number;
  /** Failures that came later than the route's deadline. */
  late: number;
  /** Not sent: the load generator had too many requests outstanding. */
  dropped: number;
  streams: number;
  withTools: number;
  anthropicFormat: number;
}

export interface ScenarioReport {
  name: string;
  description: string;
  durationMs: number;
  naturalDurationMs: number;
  /** What the scenario's absolute times were multiplied by. */
  scale: number;
  incidents: Array<{ label: string; on: string; startMs: number; endMs: number; windows: Array<{ startMs: number; endMs: number }> }>;
  /** The targets the incidents hit ("the primary"). */
  affectedTargets: string[];
  requests: RequestCounts;
  /** Client-visible success rate of every request sent; a stream cut after its first bytes is a failure. */
  successRate: number | null;
  /** The rate the success check judges against: the SLO, or the scenario's lowered bar with its reason. */
  successBar: { rate: number; basis: string; reason: string | null };
  /** The p95 latency bound: the calm p95 (successful requests sent outside the incidents) plus one failover's cost. */
  p95Bound: {
    ms: number | null;
    baselineP95Ms: number | null;
    failoverCostMs: number | null;
    /**
     * For a scenario that says so (`verdict.p95: { plus: outage_wait }`): the longest a request
     * sent into the outage legitimately waits for the upstreams, with the scenario's reason.
     */
    outageWait?: { ms: number; reason: string } | undefined;
  };
  /**
   * Last incident's end → success (of every request sent from then on) back at the SLO: `ms` null
   * when it never was within the `observedMs` left of the run; judged against `withinMs`.
   */
  recovery: { ms: number | null; withinMs: number; observedMs: number; basis: string };
  /** Successful requests, send to last byte. */
  latencyMs: Percentiles;
  /** Successful streams, send to first event. */
  ttftMs: Percentiles;
  /** Upstream calls that reached a simulator per client request sent. */
  amplification: number | null;
  upstreamCalls: number;
  /** Upstream attempts per client request as the engine counts them, refused connections included. */
  attemptsPerRequest: number | null;
  /** Failovers, from the engine's `failover.performed` events. */
  failovers: number;
  /**
   * What resilience did, from the engine's events: streams broken after their start and continued
   * on another target (or not: a tool call, no target left), recovery probes sent while the route
   * was down (and those that succeeded), requests held for a down route (and those it released).
   */
  resilience: { continuedStreams: number; streamsNotContinued: number; notContinuedReasons: Record<string, number>; recoveryProbes: number; recoveryProbesSucceeded: number; queuedForRecovery: number; releasedByRecovery: number; slowCallsMoved: number };
  /** Successful requests served by a target other than the route's first: traffic moved, with or without a failover. */
  servedAway: number;
  /** First incident's start → a hit target's circuit opens. */
  timeToDetectMs: number | null;
  /** Same as `recovery.ms`. */
  timeToRecoverMs: number | null;
  /** Last incident's end → the first request sent afterwards that a hit target served (traffic back on the primary). */
  timeToPrimaryMs: number | null;
  /** Last incident's end → the first successful answer that ended after it (held requests released included); null when none did. */
  firstAnswerAfterMs: number | null;
  costUsd: number;
  unpricedRequests: number;
  servedBy: Record<string, number>;
  /** Client-visible error codes. */
  errorCodes: Record<string, number>;
  /** Failed upstream attempts by code, from the engine's events: `attempt.failed`, and streams that failed after their start. */
  upstreamFailures: Record<string, number>;
  upstreamCallsByProvider: Record<string, number>;
  stateEvents: Array<{ atMs: number; type: string; target: string; detail: string }>;
  series: TimeSeries;
  slo: { successRate: number; source: 'route' | 'default' };
  /** Breaker and health timings the drill shrank with the incidents (empty at the natural length). */
  scaledTimings: Array<{ path: string; fromMs: number; toMs: number }>;
  /**
   * Scenarios with an incident on the home region: the instance's region, the home-region
   * incident's end → the send time from which every success was served at home (`returnHomeMs`,
   * null when traffic was not all home by the run's end), its limit, and where traffic went
   * (successes by `x-detour-region`, simulator calls by region). Null for other scenarios.
   */
  region: { home: string; returnHomeMs: number | null; withinMs: number; basis: string; servedByRegion: Record<string, number>; upstreamCallsByRegion: Record<string, number> } | null;
  verdict: { passed: boolean; checks: VerdictCheck[] };
  warnings: string[];
}

export interface DrillReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  config: string;
  route: string;
  targets: string[];
  rps: number;
  seed: number;
  notes: string[];
  scenarios: ScenarioReport[];
  /** False when the drill was stopped before its end: then it has not passed, whatever its scenarios say. */
  complete: boolean;
  /** Every scenario ran and passed its verdict. */
  passed: boolean;
}
