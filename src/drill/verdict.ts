import type { RouteConfig } from '../config/schema.js';
import { formatMs } from './duration.js';
import type { RequestCounts, ScenarioReport, VerdictCheck } from './report-types.js';
import type { Scenario } from './scenario-schema.js';

/** What a route must meet: its configured SLO, or 99 % success and p95 within its timeout. */
export function sloOf(route: RouteConfig, timeoutMs: number): ScenarioReport['slo'] {
  const successRate = route.slo?.success_rate;
  const p95Ms = route.slo?.p95_ms;
  return { successRate: successRate ?? 0.99, p95Ms: p95Ms ?? timeoutMs, source: successRate !== undefined || p95Ms !== undefined ? 'route' : 'default' };
}

type Judged = Pick<ScenarioReport, 'successRate' | 'latencyMs' | 'slo'> & { requests: RequestCounts };

/**
 * The checks a scenario passes or fails. The SLO (success rate, p95) is judged unless the
 * scenario turns it off; that every failure was a clear error, in time, is judged always:
 * a gateway that cannot answer must still say so, promptly.
 */
export function judge(scenario: Scenario, figures: Judged, timeoutMs: number): ScenarioReport['verdict'] {
  const checks: VerdictCheck[] = [];
  const { requests, slo } = figures;
  if (scenario.verdict.slo) {
    const rate = figures.successRate;
    checks.push({
      name: 'success rate',
      passed: rate !== null && rate >= slo.successRate,
      detail: rate === null ? 'no request was judged' : `${formatRate(rate)} (SLO ≥ ${formatRate(slo.successRate)})`,
    });
    const p95 = figures.latencyMs.p95;
    checks.push({
      name: 'p95 latency',
      passed: p95 !== null && p95 <= slo.p95Ms,
      detail: p95 === null ? 'no successful request' : `${formatMs(p95)} (SLO ≤ ${formatMs(slo.p95Ms)})`,
    });
  }
  const unclear = requests.hung + requests.broken + requests.late;
  checks.push({
    name: 'clear errors in time',
    passed: unclear === 0,
    detail:
      unclear === 0
        ? `every failure (${requests.errors + requests.cutStreams}) was a clear error within the ${formatMs(timeoutMs)} deadline`
        : `${requests.hung} hung, ${requests.broken} without a clear error, ${requests.late} past the ${formatMs(timeoutMs)} deadline`,
  });
  return { passed: checks.every((check) => check.passed), checks };
}

export function formatRate(rate: number): string {
  const percent = rate * 100;
  return `${percent >= 99.95 && percent < 100 ? percent.toFixed(2) : percent.toFixed(1)}%`;
}
