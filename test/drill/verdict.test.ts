import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { CallRecord } from '../../src/drill/client-call.js';
import { toDrillConfig } from '../../src/drill/drill-config.js';
import { recoverWithin } from '../../src/drill/scenario-report.js';
import { baselineLatency, shareOutsideIncidents, timeToPrimary, timeToRecover } from '../../src/drill/scenario-metrics.js';
import { describeRun, placeIncidents } from '../../src/drill/scenario-timing.js';
import { parseScenario, resolveScenarios, ScenarioError } from '../../src/drill/scenarios.js';
import { DurationTooShortError } from '../../src/drill/timing-scale.js';
import { successBarOf } from '../../src/drill/verdict.js';
import { providerTypes } from '../../src/providers/registry.js';

const scenarioText = `
name: down
description: The primary is down
duration: 10s
incidents:
  - { at: 2s, for: 3s, fault: { down: true } }
`;

/** One request a second of the run, sent at `at` ms, failed when `failedAt` says so. */
function records(count: number, everyMs: number, failed: (atMs: number) => boolean): CallRecord[] {
  return Array.from({ length: count }, (_, index) => {
    const at = index * everyMs;
    return { format: 'openai', stream: false, hasTools: false, startedAt: at, endedAt: at + 100, latencyMs: 100 + (index % 10), outcome: failed(at) ? 'error' : 'success', status: failed(at) ? 503 : 200, isFailover: false };
  });
}

describe('recovery time', () => {
  const scenario = parseScenario(scenarioText, 'inline');
  const timeline = placeIncidents(scenario, 10_000);

  it.each([
    ['nothing failed after the incident', (at: number) => at >= 2000 && at < 5000, 0],
    ['failures went on 1.5 s after the end', (at: number) => at >= 2000 && at < 6500, 1500],
    ['failures until the end of the run', (at: number) => at >= 2000, null],
  ] as const)('%s', (_, failed, expected) => {
    expect(timeToRecover(timeline, records(100, 100, failed), 0, 0.99)).toBe(expected);
  });

  it('one late failure does not undo a recovery that the rest of the run holds', () => {
    // 50 requests after the end, one failure among them: 98 % over the suffix from the end, ≥ 99 % only from after it.
    const result = timeToRecover(timeline, records(100, 100, (at) => (at >= 2000 && at < 5000) || at === 5300), 0, 0.99);
    expect(result).toBe(400);
  });

  it('forgives exactly the requests sent during the incident, and measures the calm outside it', () => {
    const all = records(100, 100, (at) => at >= 2000 && at < 5000);
    expect(shareOutsideIncidents(timeline, all, 0)).toBeCloseTo(0.7);
    expect(baselineLatency(timeline, all, 0)).toMatchObject({ samples: 70, p95: 109 });
  });
});

describe('back on the primary', () => {
  const timeline = placeIncidents(parseScenario(scenarioText, 'inline'), 10_000);
  // After the incident (2–5 s) the backup serves until 7 s, then the primary again.
  const served = records(100, 100, () => false).map((record) => ({ ...record, target: record.startedAt >= 5000 && record.startedAt < 7000 ? 'backup/m' : 'primary/m' }));

  it('is the first request sent after the incident that the primary served, not any target the incident hit', () => {
    expect(timeToPrimary(timeline, served, ['primary/m'], 0)).toBe(2000);
  });

  it('is not measured when no incident hit the primary', () => {
    expect(timeToPrimary(timeline, served, [], 0)).toBeNull();
  });
});

describe('success bar', () => {
  const slo = { successRate: 0.99, source: 'default' as const };

  it('is the SLO unless the scenario lowers it with a reason, and never above the SLO', () => {
    expect(successBarOf(slo, undefined, 0.7)).toMatchObject({ rate: 0.99, reason: null });
    const lowered = successBarOf(slo, { min: 'outside_incident', allowance: 0.02, reason: 'every upstream is down' }, 0.7);
    expect(lowered.rate).toBeCloseTo(0.68);
    expect(lowered).toMatchObject({ reason: 'every upstream is down', basis: 'the 70.0% of requests sent outside the incident, minus a 2-point allowance' });
    expect(successBarOf(slo, { min: 'outside_incident', allowance: 0.005, reason: 'every upstream is down' }, 1).rate).toBe(0.99);
    expect(successBarOf(slo, { min: 0.9, allowance: 0.02, reason: 'half the keys are revoked' }, 1).rate).toBe(0.9);
  });

  it('refuses the old switches that turned judging off, and a lowered bar without a reason', () => {
    expect(() => parseScenario(`${scenarioText}verdict: { slo: false }\n`, 'old.yaml')).toThrow(/verdict\.slo: slo is no longer accepted/);
    expect(() => parseScenario(`${scenarioText}verdict: { count_cut_streams: false }\n`, 'old.yaml')).toThrow(/count_cut_streams is no longer accepted/);
    expect(() => parseScenario(`${scenarioText}verdict: { success_rate: { min: 0.5 } }\n`, 'lazy.yaml')).toThrow(ScenarioError);
  });
});

describe('--duration', () => {
  const config = validateConfig(
    {
      providers: { primary: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_key: 'k', health_check: { interval_ms: 10_000 } } },
      models: { chat: { targets: [{ provider: 'primary', model: 'm' }] } },
      breaker: { open_ms: 20_000 },
    },
    { providerTypes: providerTypes(), env: {} },
  );
  const sims = new Map([['primary', 'http://127.0.0.1:2']]);

  it('scales breaker and health timings with the incidents, leaving the user`s config untouched', () => {
    const drill = toDrillConfig(config, sims, { scale: 0.1, runMs: 6000 });
    expect(drill.config.breaker.open_ms).toBe(2000);
    expect(drill.config.providers.primary?.health_check?.interval_ms).toBe(1000);
    expect(drill.config.providers.primary?.health_check?.timeout_ms).toBe(5000);
    expect(drill.scaled).toContainEqual({ path: 'providers.primary.health_check.interval_ms', fromMs: 10_000, toMs: 1000 });
    expect(drill.notes.join('\n')).toContain('breaker.open_ms 20 s → 2 s');
    expect(config.breaker.open_ms).toBe(20_000);
    expect(config.providers.primary?.health_check?.interval_ms).toBe(10_000);
  });

  it('refuses a run too short for a timing, naming it', () => {
    expect(() => toDrillConfig(config, sims, { scale: 0.004, runMs: 240 })).toThrow(DurationTooShortError);
    expect(() => toDrillConfig(config, sims, { scale: 0.004, runMs: 240 })).toThrow(/too short for breaker\.open_ms \(20 s\).*80 ms/);
  });

  it('judges recovery by 2 s plus the health interval, shrunk with the run, never under five request intervals', () => {
    const [outage] = resolveScenarios('outage');
    if (!outage) throw new Error('no outage');
    expect(recoverWithin(outage, 1, 30_000, 50)).toMatchObject({ ms: 32_000 });
    expect(recoverWithin(outage, 0.1, 3000, 50)).toMatchObject({ ms: 3200 });
    expect(recoverWithin(outage, 0.05, undefined, 20)).toMatchObject({ ms: 250, basis: expect.stringContaining('5 request intervals') });
  });

  it('describes a scenario with the times the run used', () => {
    const [outage] = resolveScenarios('outage');
    if (!outage) throw new Error('no outage');
    expect(describeRun(outage, placeIncidents(outage, 6000))).toBe(
      "The primary's host refuses connections, then recovers. In this 6 s run, the primary: connections refused from 1 s to 4 s (3 s). Times ×0.100 of the scenario's natural 1 min.",
    );
  });
});
