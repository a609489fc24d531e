import type { RouteConfig } from '../config/schema.js';
import type { RouteSettings } from '../core/settings.js';
import { formatMs } from './duration.js';
import type { RequestCounts, ScenarioReport, VerdictCheck } from './report-types.js';
import type { Scenario, SuccessBar } from './scenario-schema.js';
import type { ScenarioTimeline } from './scenario-timing.js';

/** What a route must meet: its configured SLO success rate, or 99 %. */
export function sloOf(route: RouteConfig): ScenarioReport['slo'] {
  const successRate = route.slo?.success_rate;
  return { successRate: successRate ?? 0.99, source: successRate !== undefined ? 'route' : 'default' };
}

/**
 * The success rate a scenario is judged on: the route's SLO, or a lower bar the scenario states
 * with its reason. `outside_incident` is the share of requests sent outside the incidents minus
 * the allowance; a bar is never above the SLO.
 */
export function successBarOf(slo: ScenarioReport['slo'], bar: SuccessBar | undefined, shareOutside: number | null): ScenarioReport['successBar'] {
  if (!bar) return { rate: slo.successRate, basis: `the route's SLO (${slo.source === 'route' ? 'models.*.slo.success_rate' : 'default 99%'})`, reason: null };
  if (bar.min === 'outside_incident') {
    const outside = shareOutside ?? 0;
    const rate = Math.max(0, Math.min(slo.successRate, outside - bar.allowance));
    return { rate, basis: `the ${formatRate(outside)} of requests sent outside the incident, minus a ${formatPoints(bar.allowance)} allowance`, reason: bar.reason };
  }
  return { rate: Math.min(slo.successRate, bar.min), basis: `lowered by the scenario to ${formatRate(bar.min)}`, reason: bar.reason };
}

/**
 * The p95 bound: the scenario's own calm p95 plus what one failover costs on this route: its
 * attempts on the failing target, each as long as a calm median answer, the backoffs between
 * them, and the next target's answer; or the hedge delay plus that answer when the route hedges
 * and that is cheaper. Waiting out an attempt timeout is not in it: a route that must wait its
 * `attempt_timeout_ms` to leave a slow target shows it here.
 */
export function p95BoundOf(baseline: { p50: number | null; p95: number | null }, route: RouteSettings, outageWait?: { ms: number; reason: string }): ScenarioReport['p95Bound'] {
  if (baseline.p95 === null || baseline.p50 === null) return { ms: null, baselineP95Ms: null, failoverCostMs: null, outageWait };
  const { attempts, backoffMs, maxBackoffMs } = route.retry;
  let backoffs = 0;
  for (let retry = 0; retry < attempts - 1; retry++) backoffs += Math.min(maxBackoffMs, backoffMs * 2 ** retry);
  const retryCost = attempts * baseline.p50 + backoffs;
  const hedgeAfter = route.hedge.isEnabled ? route.hedge.afterMs : undefined;
  const failoverCostMs = Math.round(hedgeAfter !== undefined ? Math.min(retryCost, hedgeAfter + baseline.p50) : retryCost);
  return { ms: baseline.p95 + failoverCostMs + (outageWait?.ms ?? 0), baselineP95Ms: baseline.p95, failoverCostMs, outageWait };
}

/**
 * The wait a scenario adds to its p95 bound (`verdict.p95: { plus: outage_wait }`): a request sent
 * into a total outage is held until an upstream is back, at most `wait_for_recovery_ms`, and is
 * released by the first recovery probe after that, so at most the longest incident window (or
 * the wait limit) plus one probe interval. Undefined for a scenario that does not ask for it.
 */
export function outageWaitOf(scenario: Scenario, timeline: ScenarioTimeline, waitForRecoveryMs: number, recoveryProbeMs: number): { ms: number; reason: string } | undefined {
  const widening = scenario.verdict.p95;
  if (!widening) return undefined;
  const longestWindow = Math.max(0, ...timeline.incidents.flatMap((placed) => placed.windows.map((window) => window.endMs - window.startMs)));
  return { ms: Math.round(Math.min(longestWindow, waitForRecoveryMs) + recoveryProbeMs), reason: widening.reason };
}

type Judged = Pick<ScenarioReport, 'successRate' | 'latencyMs' | 'successBar' | 'p95Bound' | 'recovery' | 'slo'> & { requests: RequestCounts; region?: ScenarioReport['region'] | undefined };

/**
 * The checks a scenario passes or fails, always these four: success rate against its bar, p95
 * against its bound, recovery in time, and every failure a clear error within the deadline (a
 * gateway that cannot answer must still say so, promptly); and a fifth, traffic back home in
 * time, for a scenario whose incident is on the home region.
 */
export function judge(figures: Judged, timeoutMs: number): ScenarioReport['verdict'] {
  const checks: VerdictCheck[] = [];
  const { requests, successBar, p95Bound, recovery } = figures;
  const rate = figures.successRate;
  const recoveryText = recovery.ms === null ? `success not back at ${formatRate(figures.slo.successRate)} in the ${formatMs(recovery.observedMs)} after the incident` : `success back at ${formatRate(figures.slo.successRate)} ${formatMs(recovery.ms)} after the incident`;
  checks.push({
    name: 'success rate',
    passed: rate !== null && rate >= successBar.rate,
    detail:
      rate === null
        ? 'no request was sent'
        : `${formatRate(rate)} of ${requests.sent} (bar ≥ ${formatRate(successBar.rate)}: ${successBar.basis}${successBar.reason ? `, because ${successBar.reason.replace(/\.$/, '')}` : ''}; ${requests.cutStreams} cut stream(s) counted as failures); ${recoveryText}`,
  });
  const p95 = figures.latencyMs.p95;
  checks.push({
    name: 'p95 latency',
    passed: p95 !== null && p95Bound.ms !== null && p95 <= p95Bound.ms,
    detail:
      p95 === null
        ? 'no successful request'
        : p95Bound.ms === null
          ? `${formatMs(p95)}, but no calm baseline was measured to judge it by`
          : `${formatMs(p95)} (bound ≤ ${formatMs(p95Bound.ms)}: the calm p95 ${formatMs(p95Bound.baselineP95Ms ?? 0)} + one failover ${formatMs(p95Bound.failoverCostMs ?? 0)}${
              p95Bound.outageWait ? ` + the outage's wait ${formatMs(p95Bound.outageWait.ms)}, because ${p95Bound.outageWait.reason.replace(/\.$/, '')}` : ''
            })`,
  });
  checks.push({
    name: 'recovery',
    passed: recovery.ms !== null ? recovery.ms <= recovery.withinMs : recovery.observedMs === 0,
    detail:
      recovery.observedMs === 0
        ? 'not judged: the incident lasted until the end of the run'
        : `${recoveryText} (limit ${formatMs(recovery.withinMs)}: ${recovery.basis})`,
  });
  const unclear = requests.hung + requests.broken + requests.late;
  checks.push({
    name: 'clear errors in time',
    passed: unclear === 0,
    detail:
      unclear === 0
        ? `every failure (${requests.errors + requests.cutStreams}) was a clear error within the ${formatMs(timeoutMs)} deadline`
        : `${requests.hung} hung, ${requests.broken} without a clear error, ${requests.late} past the ${formatMs(timeoutMs)} deadline`,
  });
  const region = figures.region;
  if (region) {
    checks.push({
      name: 'return home',
      passed: region.returnHomeMs !== null && region.returnHomeMs <= region.withinMs,
      detail:
        region.returnHomeMs === null
          ? `traffic was not back in ${region.home} by the end of the run (limit ${formatMs(region.withinMs)}: ${region.basis})`
          : `every success served in ${region.home} from ${formatMs(region.returnHomeMs)} after its recovery (limit ${formatMs(region.withinMs)}: ${region.basis})`,
    });
  }
  return { passed: checks.every((check) => check.passed), checks };
}

export function formatRate(rate: number): string {
  const percent = rate * 100;
  return `${percent >= 99.95 && percent < 100 ? percent.toFixed(2) : percent.toFixed(1)}%`;
}

function formatPoints(share: number): string {
  const points = share * 100;
  return `${Number.isInteger(points) ? points : points.toFixed(1)}-point`;
}
