import { describe, expect, it } from 'vitest';
import { keepGroupsTogether, type RoutingCandidate } from '../../src/core/candidate-groups.js';
import { seededRandom, type Random } from '../../src/core/clock.js';
import { ModelCatalog } from '../../src/core/model-catalog.js';
import { orderCandidates, strategies, strategyNames, type StrategyContext, type StrategyName } from '../../src/core/strategies.js';
import type { Target } from '../../src/core/settings.js';
import { defaultStatsSettings, emptyTargetStats, type TargetStats } from '../../src/core/target-stats.js';

function candidate(provider: string, model: string, weight = 1, key?: number): RoutingCandidate {
  return { id: `${provider}/${model}${key === undefined ? '' : `#${key}`}`, model, provider: { name: provider }, settings: { weight } };
}

const a = candidate('a', 'm');
const b = candidate('b', 'm');
const c = candidate('c', 'm');

function context(stats: Record<string, Partial<TargetStats>> = {}, overrides: Partial<StrategyContext> = {}): StrategyContext {
  return {
    stats: (id) => ({ ...emptyTargetStats, ...stats[id] }),
    random: seededRandom(42),
    now: 0,
    catalog: new ModelCatalog(),
    statsSettings: defaultStatsSettings,
    turn: 0,
    ...overrides,
  };
}

const ids = (list: readonly RoutingCandidate[]): string[] => list.map((item) => item.id);

/** How often each id comes first over `draws` orderings with one seeded source. */
function leaderShares(name: StrategyName, candidates: readonly RoutingCandidate[], base: StrategyContext, draws = 20_000): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let draw = 0; draw < draws; draw++) {
    const leader = orderCandidates(name, candidates, base)[0]?.id ?? 'none';
    counts[leader] = (counts[leader] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([id, count]) => [id, count / draws]));
}

describe('every strategy', () => {
  const keyed = [candidate('x', 'm', 2, 0), candidate('x', 'm', 2, 1), a, b, candidate('y', 'gpt-4o-mini', 3)];
  it.each(strategyNames)('%s returns a permutation of its candidates, keys of one provider together', (name) => {
    for (let seed = 1; seed <= 50; seed++) {
      const ordered = orderCandidates(name, keyed, context({}, { random: seededRandom(seed), turn: seed }));
      expect([...ids(ordered)].sort()).toEqual([...ids(keyed)].sort());
      const xs = ordered.flatMap((item, index) => (item.provider.name === 'x' ? [index] : []));
      expect(xs[1]! - xs[0]!).toBe(1);
    }
  });

  it.each(strategyNames)('%s is reproducible under a seed', (name) => {
    const once = orderCandidates(name, keyed, context({}, { random: seededRandom(7) }));
    const again = orderCandidates(name, keyed, context({}, { random: seededRandom(7) }));
    expect(ids(once)).toEqual(ids(again));
  });

  it.each(strategyNames)('%s copes with no and one candidate', (name) => {
    expect(orderCandidates(name, [], context())).toEqual([]);
    expect(orderCandidates(name, [a], context())).toEqual([a]);
  });
});

describe('the engine’s targets', () => {
  it('are candidates as they are (checked by the compiler)', () => {
    const order = (targets: readonly Target[]): Target[] => orderCandidates('weighted', targets, context());
    expect(order([])).toEqual([]);
  });
});

describe('fallback', () => {
  it('keeps the priority order', () => {
    expect(ids(strategies.fallback([c, a, b], context()))).toEqual(['c/m', 'a/m', 'b/m']);
  });
});

describe('round_robin', () => {
  const cases = [
    { turn: 0, expected: ['a/m', 'b/m', 'c/m'] },
    { turn: 1, expected: ['b/m', 'c/m', 'a/m'] },
    { turn: 2, expected: ['c/m', 'a/m', 'b/m'] },
    { turn: 3, expected: ['a/m', 'b/m', 'c/m'] },
  ];
  it.each(cases)('turn $turn leads with $expected.0', ({ turn, expected }) => {
    expect(ids(orderCandidates('round_robin', [a, b, c], context({}, { turn })))).toEqual(expected);
  });

  it('turns by provider and model, so a provider with two keys does not lead twice as often', () => {
    const keyed = [candidate('x', 'm', 1, 0), candidate('x', 'm', 1, 1), b];
    expect(ids(orderCandidates('round_robin', keyed, context({}, { turn: 0 })))).toEqual(['x/m#0', 'x/m#1', 'b/m']);
    expect(ids(orderCandidates('round_robin', keyed, context({}, { turn: 1 })))).toEqual(['b/m', 'x/m#0', 'x/m#1']);
  });
});

describe('weighted', () => {
  const cases: Array<{ name: string; candidates: RoutingCandidate[]; stats?: Record<string, Partial<TargetStats>>; now?: number; expected: Record<string, number> }> = [
    { name: 'equal weights share equally', candidates: [a, b], expected: { 'a/m': 0.5, 'b/m': 0.5 } },
    { name: '3:1 weights lead 3:1', candidates: [candidate('a', 'm', 3), b], expected: { 'a/m': 0.75, 'b/m': 0.25 } },
    { name: '1:2:5 weights', candidates: [a, candidate('b', 'm', 2), candidate('c', 'm', 5)], expected: { 'a/m': 0.125, 'b/m': 0.25, 'c/m': 0.625 } },
    {
      name: 'a route entry’s weight is split among its keys',
      candidates: [candidate('x', 'm', 1, 0), candidate('x', 'm', 1, 1), b],
      expected: { 'x/m#0': 0.25, 'x/m#1': 0.25, 'b/m': 0.5 },
    },
    { name: 'one recent failure halves a share', candidates: [a, b], stats: { 'a/m': { penalty: 1, penaltyAt: 0 } }, expected: { 'a/m': 1 / 3, 'b/m': 2 / 3 } },
    { name: 'two recent failures quarter it', candidates: [a, b], stats: { 'a/m': { penalty: 2, penaltyAt: 0 } }, expected: { 'a/m': 0.2, 'b/m': 0.8 } },
    {
      name: 'the penalty decays with its half-life (one failure, 30 s ago)',
      candidates: [a, b],
      stats: { 'a/m': { penalty: 1, penaltyAt: 0 } },
      now: 30_000,
      expected: { 'a/m': Math.SQRT1_2 / (1 + Math.SQRT1_2), 'b/m': 1 / (1 + Math.SQRT1_2) },
    },
    { name: 'and back to an equal share after long enough', candidates: [a, b], stats: { 'a/m': { penalty: 1, penaltyAt: 0 } }, now: 600_000, expected: { 'a/m': 0.5, 'b/m': 0.5 } },
  ];
  it.each(cases)('$name', ({ candidates, stats, now, expected }) => {
    const shares = leaderShares('weighted', candidates, context(stats, { random: seededRandom(1234), now: now ?? 0 }));
    for (const [id, share] of Object.entries(expected)) expect(shares[id] ?? 0).toBeCloseTo(share, 1);
    for (const [id, share] of Object.entries(expected)) expect(Math.abs((shares[id] ?? 0) - share)).toBeLessThan(0.015);
  });

  it('draws failover targets by share of the rest', () => {
    const heavy = candidate('c', 'm', 8);
    let secondIsHeavy = 0;
    let firstIsLight = 0;
    const base = context({}, { random: seededRandom(99) });
    for (let draw = 0; draw < 20_000; draw++) {
      const [first, second] = orderCandidates('weighted', [a, b, heavy], base);
      if (first !== heavy) {
        firstIsLight++;
        if (second === heavy) secondIsHeavy++;
      }
    }
    // Once a or b leads, the heavy target takes the second place 8/9 of the time.
    expect(secondIsHeavy / firstIsLight).toBeCloseTo(8 / 9, 1);
  });

  it('puts zero-weight targets last, in priority order', () => {
    const ordered = orderCandidates('weighted', [candidate('z', 'm', 0), a, candidate('y', 'm', 0), b], context());
    expect(ids(ordered).slice(2)).toEqual(['z/m', 'y/m']);
  });
});

describe('latency (power of two choices)', () => {
  const stats = { 'a/m': { latencyMs: 100 }, 'b/m': { latencyMs: 200 }, 'c/m': { latencyMs: 300 } };

  it('leads with the faster of two random candidates', () => {
    // a leads whenever it is drawn (2 of 3 pairs), b only against c, c never.
    const shares = leaderShares('latency', [a, b, c], context(stats, { random: seededRandom(5) }));
    expect(shares['a/m']).toBeCloseTo(2 / 3, 1);
    expect(shares['b/m']).toBeCloseTo(1 / 3, 1);
    expect(shares['c/m']).toBeUndefined();
  });

  it('orders the rest fastest first', () => {
    const sequence: Random = (() => {
      const draws = [0.7, 0.1]; // picks c, then the offset 1 → a: a wins, b and c follow
      return () => draws.shift() ?? 0;
    })();
    expect(ids(orderCandidates('latency', [a, b, c], context(stats, { random: sequence })))).toEqual(['a/m', 'b/m', 'c/m']);
  });

  it('does not take a target that fails fast for a fast one', () => {
    // Scored by latency over success rate: 50 ms at 20 % success weighs as 250 ms, behind b's 200.
    const failing = { ...stats, 'a/m': { latencyMs: 50, successRate: 0.2 } };
    const shares = leaderShares('latency', [a, b], context(failing, { random: seededRandom(3) }), 1_000);
    expect(shares['b/m']).toBe(1);
  });

  it('explores a target without samples as if it were the fastest known', () => {
    const partial = { 'a/m': { latencyMs: 100 }, 'b/m': { latencyMs: 200 } };
    const shares = leaderShares('latency', [a, b, c], context(partial, { random: seededRandom(8) }));
    expect(shares['c/m']).toBeGreaterThan(0.3);
  });
});

describe('least_busy', () => {
  const cases = [
    { name: 'fewest in flight first', inFlight: { 'a/m': 3, 'b/m': 0, 'c/m': 1 }, expected: ['b/m', 'c/m', 'a/m'] },
    { name: 'ties keep the priority order', inFlight: { 'a/m': 1, 'b/m': 1, 'c/m': 0 }, expected: ['c/m', 'a/m', 'b/m'] },
    { name: 'all idle is the priority order', inFlight: {}, expected: ['a/m', 'b/m', 'c/m'] },
  ];
  it.each(cases)('$name', ({ inFlight, expected }) => {
    const stats = Object.fromEntries(Object.entries(inFlight).map(([id, count]) => [id, { inFlight: count }]));
    expect(ids(orderCandidates('least_busy', [a, b, c], context(stats)))).toEqual(expected);
  });

  it('leads with the idlest key and keeps its siblings right behind', () => {
    const keyed = [candidate('x', 'm', 1, 0), candidate('x', 'm', 1, 1), b];
    const stats = { 'x/m#0': { inFlight: 4 }, 'x/m#1': { inFlight: 0 }, 'b/m': { inFlight: 2 } };
    expect(ids(orderCandidates('least_busy', keyed, context(stats)))).toEqual(['x/m#1', 'x/m#0', 'b/m']);
  });
});

describe('cost', () => {
  const opus = candidate('anthropic', 'claude-opus-4');
  const mini = candidate('openai', 'gpt-4o-mini');
  const fourO = candidate('openai', 'gpt-4o');
  const mystery = candidate('local', 'mystery-model');
  const flashLite = candidate('google', 'gemini-2.5-flash-lite');

  it('orders cheapest first and unknown prices last', () => {
    expect(ids(orderCandidates('cost', [mystery, opus, fourO, mini, flashLite], context()))).toEqual([
      'google/gemini-2.5-flash-lite',
      'openai/gpt-4o-mini',
      'openai/gpt-4o',
      'anthropic/claude-opus-4',
      'local/mystery-model',
    ]);
  });

  it('weighs input and output by the request’s expected tokens', () => {
    const catalog = new ModelCatalog({ 'cheap-in': { price: { inputPerMillion: 1, outputPerMillion: 100 } }, 'cheap-out': { price: { inputPerMillion: 10, outputPerMillion: 10 } } });
    const cheapIn = candidate('p', 'cheap-in');
    const cheapOut = candidate('p', 'cheap-out');
    expect(ids(orderCandidates('cost', [cheapOut, cheapIn], context({}, { catalog, tokens: { input: 10_000, output: 10 } })))[0]).toBe('p/cheap-in');
    expect(ids(orderCandidates('cost', [cheapIn, cheapOut], context({}, { catalog, tokens: { input: 10, output: 10_000 } })))[0]).toBe('p/cheap-out');
  });
});

describe('keepGroupsTogether', () => {
  it('pulls each group’s other keys behind its first, keeping all other relations', () => {
    const x0 = candidate('x', 'm', 1, 0);
    const x1 = candidate('x', 'm', 1, 1);
    const y0 = candidate('y', 'm', 1, 0);
    const y1 = candidate('y', 'm', 1, 1);
    expect(ids(keepGroupsTogether([y1, x0, a, y0, x1]))).toEqual(['y/m#1', 'y/m#0', 'x/m#0', 'x/m#1', 'a/m']);
  });
});
