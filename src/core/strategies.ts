import { groupOf, groupSizes, keepGroupsTogether, type RoutingCandidate } from './candidate-groups.js';
import type { Random } from './clock.js';
import type { ModelCatalog } from './model-catalog.js';
import { currentPenalty, type StatsSettings, type TargetStats } from './target-stats.js';

/**
 * Routing strategies. Each one only orders a route's eligible candidates; failover then walks
 * the rest of that order. They are separate functions of one signature, chosen from a map by the
 * route's configured name.
 */

/** What a strategy may consult besides the candidates. */
export interface StrategyContext {
  /** The statistics of a target (this instance's view); never throws for an unknown id. */
  stats(targetId: string): TargetStats;
  random: Random;
  /** Epoch milliseconds, from the injected clock. */
  now: number;
  catalog: ModelCatalog;
  statsSettings: StatsSettings;
  /** The route's request counter, which `round_robin` turns on. */
  turn: number;
  /** Expected tokens of this request, for `cost`; a 3:1 input:output mix is assumed without it. */
  tokens?: { input: number; output: number } | undefined;
  /** This instance's region (`server.region`), which `nearest` puts first; undefined when not declared. */
  homeRegion?: string | undefined;
}

/** Orders candidates; never drops or duplicates one. */
export type Strategy = <T extends RoutingCandidate>(candidates: readonly T[], context: StrategyContext) => T[];

/** Priority order: the route's own order (the planner already rotated each provider's keys). */
const fallback: Strategy = (candidates) => [...candidates];

/** Rotates the groups (provider + model) by the route's turn, so each leads in turn whatever its key count. */
const roundRobin: Strategy = (candidates, context) => {
  const groups = [...new Set(candidates.map(groupOf))];
  if (groups.length < 2) return [...candidates];
  const shift = ((context.turn % groups.length) + groups.length) % groups.length;
  const rank = new Map(groups.map((group, index) => [group, (index - shift + groups.length) % groups.length]));
  return stableSortBy(candidates, (candidate) => rank.get(groupOf(candidate)) ?? 0);
};

/**
 * Weighted random order without replacement (Efraimidis–Spirakis: sort by ln(u)/w, one draw per
 * candidate), so the leader is drawn by share and each failover target by share of the rest.
 * A route entry's weight is split among its keys, and each recent failure of a key halves its
 * share, decaying back with the penalty's half-life.
 */
const weighted: Strategy = (candidates, context) => {
  const sizes = groupSizes(candidates);
  const keyed = candidates.map((candidate, index) => {
    const share = candidate.settings.weight / (sizes.get(groupOf(candidate)) ?? 1);
    const weight = share * 0.5 ** currentPenalty(context.stats(candidate.id), context.now, context.statsSettings);
    const key = weight > 0 ? Math.log(context.random()) / weight : -Infinity;
    return { candidate, index, key };
  });
  keyed.sort((a, b) => b.key - a.key || a.index - b.index);
  return keyed.map((entry) => entry.candidate);
};

/**
 * Power of two choices on EWMA latency: two candidates drawn at random, the faster leads, the
 * rest follow fastest first. Latency is divided by the success rate, so a target that fails
 * fast does not look fast; a target without samples counts as the fastest known one, so that
 * it gets explored.
 */
const latency: Strategy = (candidates, context) => {
  if (candidates.length < 2) return [...candidates];
  const score = latencyScore(candidates, context);
  const first = Math.floor(context.random() * candidates.length);
  const offset = 1 + Math.floor(context.random() * (candidates.length - 1));
  const second = (first + offset) % candidates.length;
  const a = candidates[first] as (typeof candidates)[number];
  const b = candidates[second] as (typeof candidates)[number];
  const leader = score(b) < score(a) ? b : a;
  const rest = stableSortBy(
    candidates.filter((candidate) => candidate !== leader),
    score,
  );
  return [leader, ...rest];
};

/**
 * The instance's own region first, then the other regions by measured latency (each region by
 * its fastest target's score, as `latency` scores them), each region's targets side by side and
 * fastest first. A region that fails as a whole is left for the next one, never for a mix.
 * Targets without a declared region form one more group, ranked like a region; without a home
 * region every region is ranked by latency alone.
 */
const nearest: Strategy = (candidates, context) => {
  if (candidates.length < 2) return [...candidates];
  const score = latencyScore(candidates, context);
  const scores = candidates.map(score);
  const regionBest = new Map<string | undefined, number>();
  candidates.forEach((candidate, index) => {
    const best = regionBest.get(candidate.region);
    const own = scores[index] as number;
    if (best === undefined || own < best) regionBest.set(candidate.region, own);
  });
  const home = context.homeRegion;
  const keyed = candidates.map((candidate, index) => ({
    candidate,
    index,
    isHome: home !== undefined && candidate.region === home,
    regionScore: regionBest.get(candidate.region) as number,
    // The region's first appearance breaks ties between regions of equal score, so that its targets stay together.
    regionOrder: candidates.findIndex((other) => other.region === candidate.region),
    score: scores[index] as number,
  }));
  keyed.sort((a, b) => Number(b.isHome) - Number(a.isHome) || a.regionScore - b.regionScore || a.regionOrder - b.regionOrder || a.score - b.score || a.index - b.index);
  return keyed.map((entry) => entry.candidate);
};

/**
 * EWMA latency divided by the success rate, so that a target that fails fast does not look fast;
 * a target without samples counts as the fastest known one, so that it gets explored.
 */
function latencyScore(candidates: readonly RoutingCandidate[], context: StrategyContext): (candidate: RoutingCandidate) => number {
  const known = candidates.map((candidate) => context.stats(candidate.id).latencyMs).filter((ms): ms is number => ms !== null);
  const unknownMs = known.length > 0 ? Math.min(...known) : 1;
  return (candidate) => {
    const stats = context.stats(candidate.id);
    return (stats.latencyMs ?? unknownMs) / Math.max(stats.successRate, 0.05);
  };
}

/** Fewest attempts in flight on this instance first; ties keep the route's priority order. */
const leastBusy: Strategy = (candidates, context) => stableSortBy(candidates, (candidate) => context.stats(candidate.id).inFlight);

/** Cheapest first by the catalog's prices; models without a known price go last, in priority order. */
const cost: Strategy = (candidates, context) => {
  const tokens = context.tokens ?? { input: 3, output: 1 };
  return stableSortBy(candidates, (candidate) => {
    const usd = context.catalog.cost(candidate.model, { promptTokens: tokens.input, completionTokens: tokens.output });
    return usd ?? Infinity;
  });
};

export const strategies = {
  fallback,
  round_robin: roundRobin,
  weighted,
  latency,
  least_busy: leastBusy,
  cost,
  nearest,
} as const satisfies Readonly<Record<string, Strategy>>;

export type StrategyName = keyof typeof strategies;

export const strategyNames = Object.keys(strategies) as StrategyName[];

export function isStrategyName(name: string): name is StrategyName {
  return Object.hasOwn(strategies, name);
}

/**
 * Orders a route's candidates with its strategy, then keeps each provider's keys together so
 * that failover tries a key's siblings before moving on.
 */
export function orderCandidates<T extends RoutingCandidate>(name: StrategyName, candidates: readonly T[], context: StrategyContext): T[] {
  if (candidates.length < 2) return [...candidates];
  return keepGroupsTogether(strategies[name](candidates, context));
}

/** Sorts by a numeric key, keeping the input order among equals (Array.prototype.sort is stable). */
function stableSortBy<T>(items: readonly T[], keyOf: (item: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index, key: keyOf(item) }))
    .sort((a, b) => (a.key === b.key ? a.index - b.index : a.key < b.key ? -1 : 1))
    .map((entry) => entry.item);
}
