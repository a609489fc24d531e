import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { toRuntimeSettings } from '../../src/config/runtime.js';
import { mergeDownWindows, buildFaultPlans } from '../../src/drill/fault-plan.js';
import { parseCliDuration, resolveTime } from '../../src/drill/duration.js';
import { placeIncidents } from '../../src/drill/scenario-timing.js';
import { builtInScenarioNames, parseScenario, resolveScenarios, ScenarioError } from '../../src/drill/scenarios.js';
import { RouteTable } from '../../src/engine/route-table.js';
import { providerTypes } from '../../src/providers/registry.js';

const outageText = `
name: short-outage
description: test
duration: 60s
incidents:
  - { at: 10s, for: 30s, fault: { down: true } }
`;

describe('built-in scenarios', () => {
  it('every built-in file parses, and `all` plays them in order', () => {
    const all = resolveScenarios('all');
    expect(all.map((scenario) => scenario.name)).toEqual([...builtInScenarioNames]);
    for (const scenario of all) expect(scenario.incidents.length).toBeGreaterThan(0);
  });

  it('takes a comma-separated list and says what is unknown', () => {
    expect(resolveScenarios('outage, brownout').map((scenario) => scenario.name)).toEqual(['outage', 'brownout']);
    expect(() => resolveScenarios('outgae')).toThrow(/unknown scenario "outgae".*outage/);
  });

  it('names every problem of a broken scenario with its path', () => {
    const broken = `name: Bad Name\ndescription: x\nduration: soon\nincidents:\n  - { at: 10s, for: 5s, on: sideways, fault: { status: 99 } }\n`;
    let message = '';
    try {
      parseScenario(broken, 'mine.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      message = (error as Error).message;
    }
    expect(message).toContain('mine.yaml is not a valid scenario');
    expect(message).toContain('name:');
    expect(message).toContain('duration:');
    expect(message).toContain('incidents[0].on');
    expect(message).toContain('incidents[0].fault.status');
  });
});

describe('scenario timing', () => {
  const scenario = parseScenario(outageText, 'inline');

  it('keeps absolute times for the natural length or longer', () => {
    expect(placeIncidents(scenario, 60_000).incidents[0]?.span).toEqual({ startMs: 10_000, endMs: 40_000 });
    expect(placeIncidents(scenario, 120_000).incidents[0]?.span).toEqual({ startMs: 10_000, endMs: 40_000 });
  });

  it('shrinks absolute times in proportion when the run is shorter', () => {
    const timeline = placeIncidents(scenario, 3000);
    expect(timeline.scale).toBeCloseTo(0.05);
    expect(timeline.incidents[0]?.span).toEqual({ startMs: 500, endMs: 2000 });
  });

  it('takes shares of the run as they are, and clips to the run', () => {
    expect(resolveTime('25%', 8000, 0.1)).toBe(2000);
    const late = parseScenario(outageText.replace('at: 10s, for: 30s', 'at: 50%, for: 80%'), 'inline');
    expect(placeIncidents(late, 10_000).incidents[0]?.span).toEqual({ startMs: 5000, endMs: 10_000 });
  });

  it('cuts a flapping incident into its down halves', () => {
    const flapping = resolveScenarios('flapping')[0];
    if (!flapping) throw new Error('no flapping scenario');
    const windows = placeIncidents(flapping, 60_000).incidents[0]?.windows ?? [];
    expect(windows.map((window) => [window.startMs, window.endMs])).toEqual([
      [10_000, 15_000],
      [20_000, 25_000],
      [30_000, 35_000],
      [40_000, 45_000],
    ]);
  });

  it('reads durations the way people type them', () => {
    expect(parseCliDuration('60s')).toBe(60_000);
    expect(parseCliDuration('2m')).toBe(120_000);
    expect(parseCliDuration('1500ms')).toBe(1500);
    expect(parseCliDuration('45')).toBe(45_000);
    expect(() => parseCliDuration('soon')).toThrow(/not a duration/);
  });
});

describe('fault plans', () => {
  const config = validateConfig(
    {
      providers: {
        primary: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_keys: ['sk-a-0001', 'sk-b-0002'] },
        backup: { type: 'gemini', base_url: 'http://127.0.0.1:2', api_key: 'g-0003' },
      },
      models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'models/gemini-2.5-flash' }] } },
    },
    { providerTypes: providerTypes(), env: {} },
  );
  const settings = toRuntimeSettings(config);
  const route = new RouteTable(settings.providers, settings.routes, { ...settings.defaults }).resolve('chat');
  if (!route) throw new Error('no route');

  it('scopes a fault to the first key of the primary, on top of the baseline latency', () => {
    const [storm] = resolveScenarios('rate-limit-storm');
    if (!storm) throw new Error('no scenario');
    const plans = buildFaultPlans(storm, placeIncidents(storm, 60_000), route, ['primary', 'backup']);
    expect(plans.affectedTargets).toEqual(['primary/gpt-4o-mini#0']);
    const primary = plans.plans.get('primary');
    expect(primary?.faults).toEqual([{ latency_ms: { p50: '300ms', p99: '900ms' } }]);
    expect(primary?.timeline).toEqual([{ at: 10_000, for: 30_000, fault: { latency_ms: 50, status: 429, retry_after_s: 20, probability: 1, model: 'gpt-4o-mini', api_key: 'sk-a-0001' } }]);
    expect(plans.plans.get('backup')?.timeline).toEqual([]);
  });

  it('takes every provider of the route down in a total outage, with the simulator`s view of a Gemini model', () => {
    const [total] = resolveScenarios('total-outage');
    const [spike] = resolveScenarios('latency-spike');
    if (!total || !spike) throw new Error('no scenario');
    const plans = buildFaultPlans(total, placeIncidents(total, 60_000), route, ['primary', 'backup']);
    expect(plans.affectedTargets).toEqual(['primary/gpt-4o-mini#0', 'primary/gpt-4o-mini#1', 'backup/models/gemini-2.5-flash']);
    expect(plans.plans.get('primary')?.down).toEqual([{ startMs: 20_000, endMs: 30_000, keepInFlight: true }]);
    expect(plans.plans.get('backup')?.down).toEqual([{ startMs: 20_000, endMs: 30_000, keepInFlight: true }]);
    const onBackup = { ...spike, incidents: spike.incidents.map((incident) => ({ ...incident, on: 2 as const })) };
    expect(buildFaultPlans(onBackup, placeIncidents(onBackup, 60_000), route, ['primary', 'backup']).plans.get('backup')?.timeline[0]?.fault.model).toBe('gemini-2.5-flash');
  });

  it('merges overlapping down windows, so that one end does not bring up a host another holds down', () => {
    expect(
      mergeDownWindows([
        { startMs: 5000, endMs: 9000, keepInFlight: true },
        { startMs: 1000, endMs: 6000, keepInFlight: false },
        { startMs: 12_000, endMs: 13_000, keepInFlight: true },
      ]),
    ).toEqual([
      { startMs: 1000, endMs: 9000, keepInFlight: false },
      { startMs: 12_000, endMs: 13_000, keepInFlight: true },
    ]);
  });
});
