import { describe, expect, it } from 'vitest';
import type { RoutingCandidate } from '../../src/core/candidate-groups.js';
import { ManualClock, seededRandom } from '../../src/core/clock.js';
import { ModelCatalog } from '../../src/core/model-catalog.js';
import { effectiveRegion, isWithinRegions, regionNamePattern, restrictToRegions } from '../../src/core/regions.js';
import { orderCandidates, type StrategyContext } from '../../src/core/strategies.js';
import { defaultStatsSettings, emptyTargetStats, recordAttempt, type TargetStats } from '../../src/core/target-stats.js';

function candidate(provider: string, region: string | undefined, key?: number): RoutingCandidate {
  return { id: `${provider}/m${key === undefined ? '' : `#${key}`}`, model: 'm', provider: { name: provider }, settings: { weight: 1 }, region };
}

const ids = (list: readonly RoutingCandidate[]): string[] => list.map((item) => item.id);

/** Statistics built the way the engine builds them: attempts recorded at the fake clock's times. */
function statsFrom(clock: ManualClock, samples: Record<string, Array<{ ms: number; isSuccess?: boolean }>>): Map<string, TargetStats> {
  const stats = new Map<string, TargetStats>();
  for (const [id, list] of Object.entries(samples)) {
    let current = emptyTargetStats;
    for (const sample of list) {
      clock.advance(sample.ms);
      current = recordAttempt(current, { outcome: sample.isSuccess === false ? 'failure' : 'success', durationMs: sample.ms, now: clock.now() }, defaultStatsSettings);
    }
    stats.set(id, current);
  }
  return stats;
}

function context(clock: ManualClock, stats: Map<string, TargetStats>, homeRegion: string | undefined): StrategyContext {
  return { stats: (id) => stats.get(id) ?? emptyTargetStats, random: seededRandom(1), now: clock.now(), catalog: new ModelCatalog(), statsSettings: defaultStatsSettings, turn: 0, homeRegion };
}

describe('nearest: the instance`s region first, then the other regions by measured latency', () => {
  const usA = candidate('us-a', 'us-east');
  const usB = candidate('us-b', 'us-east');
  const euA = candidate('eu-a', 'eu-west');
  const euB = candidate('eu-b', 'eu-west');
  const ap = candidate('ap', 'ap-south');

  it.each([
    // home, latencies (ms) per target, expected order
    ['eu-west', { 'us-a/m': 50, 'us-b/m': 60, 'eu-a/m': 400, 'eu-b/m': 300, 'ap/m': 200 }, ['eu-b/m', 'eu-a/m', 'us-a/m', 'us-b/m', 'ap/m']],
    ['us-east', { 'us-a/m': 500, 'us-b/m': 90, 'eu-a/m': 40, 'eu-b/m': 45, 'ap/m': 10 }, ['us-b/m', 'us-a/m', 'ap/m', 'eu-a/m', 'eu-b/m']],
    ['ap-south', { 'us-a/m': 100, 'us-b/m': 100, 'eu-a/m': 80, 'eu-b/m': 300, 'ap/m': 900 }, ['ap/m', 'eu-a/m', 'eu-b/m', 'us-a/m', 'us-b/m']],
  ] as const)('home %s: home first however slow, each other region whole, ranked by its fastest target', (home, latencies, expected) => {
    const clock = new ManualClock(1_000_000);
    const stats = statsFrom(clock, Object.fromEntries(Object.entries(latencies).map(([id, ms]) => [id, [{ ms }, { ms }]])));
    const ordered = orderCandidates('nearest', [usA, usB, euA, euB, ap], context(clock, stats, home));
    expect(ids(ordered)).toEqual(expected);
  });

  it('a failing target`s latency is divided by its success rate, as `latency` scores it: a fast-failing region sinks', () => {
    const clock = new ManualClock(0);
    const stats = statsFrom(clock, {
      'us-a/m': [{ ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }, { ms: 20, isSuccess: false }],
      'eu-a/m': [{ ms: 200 }],
    });
    // Only failures: us-a has no latency sample (failures are not latency), so it counts as the fastest known, divided by its low success rate.
    const ordered = orderCandidates('nearest', [usA, euA], context(clock, stats, 'ap-south'));
    expect(ids(ordered)).toEqual(['eu-a/m', 'us-a/m']);
  });

  it('without samples the route`s order stands within and between regions, home still first', () => {
    const clock = new ManualClock(0);
    const ordered = orderCandidates('nearest', [usA, euA, usB, euB], context(clock, new Map(), 'eu-west'));
    expect(ids(ordered)).toEqual(['eu-a/m', 'eu-b/m', 'us-a/m', 'us-b/m']);
  });

  it('without a home region, regions are ranked by latency alone; targets of no declared region form a group of their own', () => {
    const clock = new ManualClock(0);
    const plain = candidate('plain', undefined);
    const stats = statsFrom(clock, { 'us-a/m': [{ ms: 300 }], 'eu-a/m': [{ ms: 100 }], 'plain/m': [{ ms: 200 }], 'us-b/m': [{ ms: 50 }] });
    const ordered = orderCandidates('nearest', [usA, plain, euA, usB], context(clock, stats, undefined));
    expect(ids(ordered)).toEqual(['us-b/m', 'us-a/m', 'eu-a/m', 'plain/m']);
    // A home region no target is in changes nothing.
    expect(ids(orderCandidates('nearest', [usA, plain, euA, usB], context(clock, stats, 'sa-east')))).toEqual(ids(ordered));
  });

  it('keeps a provider`s keys together and its region whole', () => {
    const clock = new ManualClock(0);
    const k0 = candidate('eu-k', 'eu-west', 0);
    const k1 = candidate('eu-k', 'eu-west', 1);
    const stats = statsFrom(clock, { 'eu-k/m#1': [{ ms: 10 }], 'eu-k/m#0': [{ ms: 500 }], 'eu-a/m': [{ ms: 100 }], 'us-a/m': [{ ms: 5 }] });
    const ordered = orderCandidates('nearest', [k0, usA, euA, k1], context(clock, stats, 'eu-west'));
    expect(ids(ordered)).toEqual(['eu-k/m#1', 'eu-k/m#0', 'eu-a/m', 'us-a/m']);
  });

  it('is deterministic: no random draw decides the order', () => {
    const clock = new ManualClock(0);
    const stats = statsFrom(clock, { 'us-a/m': [{ ms: 30 }], 'eu-a/m': [{ ms: 20 }], 'ap/m': [{ ms: 10 }] });
    const orders = new Set([1, 2, 3, 4, 5].map((seed) => ids(orderCandidates('nearest', [usA, euA, ap], { ...context(clock, stats, 'us-east'), random: seededRandom(seed) })).join(',')));
    expect([...orders]).toEqual(['us-a/m,ap/m,eu-a/m']);
  });
});

describe('region restriction', () => {
  const items = [
    { id: 'a', region: 'eu-west' },
    { id: 'b', region: 'us-east' },
    { id: 'c', region: undefined },
    { id: 'd', region: 'eu-central' },
  ];

  it.each([
    [undefined, ['a', 'b', 'c', 'd']],
    [['eu-west', 'eu-central'], ['a', 'd']],
    [['us-east'], ['b']],
    [['ap-south'], []],
  ] as const)('regions %j keeps %j, in order; a target of no declared region is never inside a restriction', (allowed, expected) => {
    expect(restrictToRegions(items, allowed).map((item) => item.id)).toEqual(expected);
    for (const item of items) expect(isWithinRegions(item, allowed)).toBe((expected as readonly string[]).includes(item.id));
  });

  it('a route entry`s region wins over its provider`s', () => {
    expect(effectiveRegion('eu-west', 'us-east')).toBe('eu-west');
    expect(effectiveRegion(undefined, 'us-east')).toBe('us-east');
    expect(effectiveRegion(undefined, undefined)).toBeUndefined();
  });

  it.each(['us-east', 'eu-west-1', 'a', 'x'.repeat(32), '9z'])('accepts the region name %s', (name) => expect(regionNamePattern.test(name)).toBe(true));
  it.each(['', 'US-East', 'us east', '-us', 'us-', 'x'.repeat(33), 'eu_west', 'eu\nwest', 'é'])('refuses the region name %j', (name) => expect(regionNamePattern.test(name)).toBe(false));
});
