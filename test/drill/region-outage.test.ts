import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { DrillSetupError, runDrill } from '../../src/drill/drill.js';
import type { DrillReport, ScenarioReport } from '../../src/drill/report-types.js';
import { renderTable } from '../../src/drill/report-table.js';
import { resolveScenarios } from '../../src/drill/scenarios.js';
import { providerTypes } from '../../src/providers/registry.js';

/** Healthy targets checked every 10 s, failing ones every second: the home region's recovery is seen soon, without probing healthy hosts often. */
const healthCheck = { interval_ms: 10_000, unhealthy_interval_ms: 1000, timeout_ms: 1000 };

/**
 * This instance in us-east, two providers there (two wire formats) and one in eu-west, routed
 * `nearest` with a 99.5 % SLO. The base URLs are real providers': the drill must never call them.
 */
function regionConfig(overrides: Record<string, unknown> = {}) {
  return validateConfig(
    {
      server: { region: 'us-east' },
      providers: {
        'us-openai': { type: 'openai', base_url: 'https://api.openai.com/v1', api_key: 'sk-real-us', region: 'us-east', health_check: healthCheck },
        'us-claude': { type: 'anthropic', base_url: 'https://api.anthropic.com', api_key: 'sk-ant-real-us', region: 'us-east', health_check: healthCheck },
        'eu-openai': { type: 'openai', base_url: 'https://eu.api.openai.com/v1', api_key: 'sk-real-eu', region: 'eu-west', health_check: healthCheck },
      },
      models: {
        chat: {
          strategy: 'nearest',
          slo: { success_rate: 0.995 },
          targets: [
            { provider: 'eu-openai', model: 'gpt-4o-mini' },
            { provider: 'us-openai', model: 'gpt-4o-mini' },
            { provider: 'us-claude', model: 'claude-3-5-haiku-latest', max_tokens: 1024 },
          ],
          retry: { attempts: 2, backoff_ms: 50, max_backoff_ms: 200 },
          timeout_ms: 12_000,
          attempt_timeout_ms: 6000,
          first_token_timeout_ms: 4000,
          stream_idle_timeout_ms: 2000,
        },
      },
      ...overrides,
    },
    { providerTypes: providerTypes(), env: {} },
  );
}

let report: DrillReport;
let result: ScenarioReport;

beforeAll(async () => {
  // The natural 60 s in 12 s (×0.2): us-east down from 3 s to 7 s; health checks every 2 s (200 ms while failing).
  // Not shorter: the probe that brings a circuit home is a real request at the baseline's unscaled latency (p50 300 ms).
  report = await runDrill({ config: regionConfig(), configPath: 'inline', scenarios: resolveScenarios('region-outage'), durationMs: 12_000, rps: 20, seed: 11 });
  result = report.scenarios[0] as ScenarioReport;
}, 90_000);

describe('region-outage', () => {
  it('keeps success at or above 99.5 % while the home region is down, serving from the next region', () => {
    expect(result.name).toBe('region-outage');
    expect(result.requests.sent).toBeGreaterThanOrEqual(200);
    expect(result.successRate, renderTable(report)).toBeGreaterThanOrEqual(0.995);
    expect(result.affectedTargets.sort()).toEqual(['us-claude/claude-3-5-haiku-latest', 'us-openai/gpt-4o-mini']);
    expect(result.incidents[0]).toMatchObject({ on: 'home_region', startMs: 3000, endMs: 7000 });
    expect(result.description).toContain('the home region: connections refused from 3 s to 7 s');
    // Where traffic went, from the answers' x-detour-region and the simulators' own counts.
    expect(result.region?.home).toBe('us-east');
    expect(result.region?.servedByRegion['us-east']).toBeGreaterThan(0);
    expect(result.region?.servedByRegion['eu-west']).toBeGreaterThan(0);
    expect(result.region?.upstreamCallsByRegion['eu-west']).toBeGreaterThan(0);
    const served = result.region?.servedByRegion ?? {};
    expect(Object.values(served).reduce((sum, count) => sum + count, 0)).toBe(result.requests.succeeded);
    expect((result.upstreamFailures.UPSTREAM_CONNECT_FAILED ?? 0) + (result.upstreamFailures.UPSTREAM_CONNECTION_RESET ?? 0)).toBeGreaterThan(0);
  });

  it('returns home within 2 s (scaled) plus the health interval of the region`s recovery, measured from the raw answers', () => {
    const region = result.region;
    expect(region?.withinMs).toBe(2400);
    expect(region?.basis).toContain('health interval 2 s');
    expect(region?.returnHomeMs, renderTable(report)).not.toBeNull();
    expect(region?.returnHomeMs ?? Infinity).toBeLessThanOrEqual(region?.withinMs ?? 0);
    const check = result.verdict.checks.find((each) => each.name === 'return home');
    expect(check).toMatchObject({ passed: true });
    expect(check?.detail).toMatch(/^every success served in us-east from [\d.]+ m?s after its recovery \(limit 2.4 s: /);
    expect(result.verdict.checks.map((each) => each.name)).toEqual(['success rate', 'p95 latency', 'recovery', 'clear errors in time', 'return home']);
    expect(result.verdict.passed, renderTable(report)).toBe(true);
    expect(renderTable(report)).toMatch(/home region us-east: back home [\d.]+m?s after its recovery \(limit 2.4s\); served by region: /);
  });
});

describe('region-outage needs regions', () => {
  it('refuses a config without server.region, or with every target at home, before anything runs', async () => {
    const scenarios = resolveScenarios('region-outage');
    const noRegion = regionConfig({ server: {} });
    await expect(runDrill({ config: noRegion, configPath: 'inline', scenarios, durationMs: 6000, rps: 20 })).rejects.toThrow(DrillSetupError);
    await expect(runDrill({ config: noRegion, configPath: 'inline', scenarios, durationMs: 6000, rps: 20 })).rejects.toThrow(/no server\.region/);
    const allHome = regionConfig({ server: { region: 'eu-west' } });
    const onlyEu = { ...allHome, models: { chat: { ...allHome.models.chat!, targets: allHome.models.chat!.targets.slice(0, 1) } } };
    await expect(runDrill({ config: onlyEu, configPath: 'inline', scenarios, durationMs: 6000, rps: 20 })).rejects.toThrow(/no other region to fail over to/);
  });

  it('is a built-in by name but not part of `all`', () => {
    expect(resolveScenarios('all').map((scenario) => scenario.name)).not.toContain('region-outage');
    expect(resolveScenarios('region-outage')[0]?.incidents[0]?.on).toBe('home_region');
  });
});
