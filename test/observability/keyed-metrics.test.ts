import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { KeyedCounter, KeyedHistogram, seriesKey } from '../../src/observability/metrics/keyed-metrics.js';

const buckets = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];

/** The same metric as prom-client's and as Detour's keyed one, each in a registry of its own. */
function pair<T, K>(make: (registry: Registry) => T, makeKeyed: (registry: Registry) => K) {
  const reference = new Registry();
  const keyed = new Registry();
  return { theirs: make(reference), ours: makeKeyed(keyed), reference, keyed };
}

describe('keyed metrics', () => {
  it('a counter reads out as prom-client’s Counter with the same increments, text and JSON', async () => {
    const labelNames = ['route', 'target', 'region'] as const;
    const { theirs, ours, reference, keyed } = pair(
      (registry) => new Counter({ name: 'detour_test_total', help: 'Help with "quotes" and \\ a backslash.', labelNames, registers: [registry] }),
      (registry) => new KeyedCounter({ name: 'detour_test_total', help: 'Help with "quotes" and \\ a backslash.', labelNames, registers: [registry] }),
    );
    const incs: Array<[Record<string, string>, number | undefined]> = [
      [{ route: 'chat', target: 'openai/gpt-4o' }, undefined],
      [{ route: 'chat', target: 'anthropic/claude "x"\n' }, 2.5],
      [{ route: 'chat', target: 'openai/gpt-4o' }, 3],
      [{ route: 'chat', target: 'openai/gpt-4o', region: 'eu' }, 0],
      [{ route: 'other', target: 'openai/gpt-4o' }, 1e-7],
    ];
    for (const [labels, value] of incs) {
      theirs.inc(labels, value);
      ours.inc(seriesKey(labels.route, labels.target, labels.region), labels, value);
    }
    expect(await keyed.metrics()).toBe(await reference.metrics());
    expect(await keyed.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
    expect(await keyed.metrics()).toContain('detour_test_total{route="chat",target="openai/gpt-4o"} 4');
  });

  it('a histogram reads out as prom-client’s Histogram with the same observations, text and JSON', async () => {
    const labelNames = ['route', 'outcome'] as const;
    const { theirs, ours, reference, keyed } = pair(
      (registry) => new Histogram({ name: 'detour_test_seconds', help: 'Durations.', labelNames, buckets, registers: [registry] }),
      (registry) => new KeyedHistogram({ name: 'detour_test_seconds', help: 'Durations.', labelNames, buckets, registers: [registry] }),
    );
    // Every bucket's edge, between two edges, past the last (only +Inf counts it), and zero.
    const values = [...buckets, 0, 0.0001, 0.07, 3.3, 119.9, 121, 5000, 0.025];
    for (const [index, value] of values.entries()) {
      const labels = { route: index % 3 === 0 ? 'chat' : 'code', outcome: index % 2 === 0 ? 'success' : 'failure' };
      theirs.observe(labels, value);
      ours.observe(seriesKey(labels.route, labels.outcome), labels, value);
    }
    expect(await keyed.metrics()).toBe(await reference.metrics());
    expect(await keyed.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
    expect(await keyed.metrics()).toMatch(/detour_test_seconds_bucket\{le="\+Inf",route="chat",outcome="success"\} \d+/);
  });

  it('refuses what prom-client refuses: a negative increment, a value that is not a number, buckets out of order', () => {
    const registry = new Registry();
    const counter = new KeyedCounter({ name: 'c_total', help: 'c', labelNames: ['a'] as const, registers: [registry] });
    expect(() => counter.inc('x', { a: 'x' }, -1)).toThrow(/decrease/);
    expect(() => counter.inc('x', { a: 'x' }, Number.NaN)).toThrow(TypeError);
    const histogram = new KeyedHistogram({ name: 'h', help: 'h', labelNames: ['a'] as const, buckets: [1, 2], registers: [registry] });
    expect(() => histogram.observe('x', { a: 'x' }, Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => new KeyedHistogram({ name: 'h2', help: 'h', labelNames: ['a'] as const, buckets: [2, 1], registers: [registry] })).toThrow(/increase/);
  });
});
