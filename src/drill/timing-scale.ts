import type { DetourConfig } from '../config/schema.js';
import { formatMs } from './duration.js';

/** A scaled timing shorter than this is refused: timers, probes and the load's own pace cannot honour it. */
export const minScaledTimingMs = 100;

/** Breaker keys that are spans of time (thresholds and rates are not). */
const breakerTimings = ['open_ms', 'max_open_ms', 'window_ms'] as const;
/** Health-check keys that are spans of time; `timeout_ms` is not scaled: it is measured against fault latencies, which never scale. */
const healthTimings = ['interval_ms', 'unhealthy_interval_ms'] as const;

/** One timing the drill changed, for the report. */
export interface ScaledTiming {
  /** Config path, e.g. `breaker.open_ms`, `providers.primary.health_check.interval_ms`. */
  path: string;
  fromMs: number;
  toMs: number;
}

/** A run too short for the config's timings to shrink with it. */
export class DurationTooShortError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationTooShortError';
  }
}

type Mutable = Record<string, unknown>;

function scaleKeys(target: Mutable | undefined, keys: readonly string[], prefix: string, scale: number, out: ScaledTiming[]): void {
  if (!target) return;
  for (const key of keys) {
    const value = target[key];
    if (typeof value !== 'number') continue;
    const scaled = Math.round(value * scale);
    out.push({ path: `${prefix}${key}`, fromMs: value, toMs: scaled });
    target[key] = Math.max(1, scaled);
  }
}

/**
 * Shrinks the breaker and health-check timings of a (cloned, raw) config by `scale`, the factor
 * the scenario's incidents were shrunk by, so that a 3 s rehearsal of a 60 s scenario meets a
 * 1.5 s cooldown where the real one meets 30 s: the same story, faster. Route timeouts, retry
 * backoff and fault sizes are left alone; they are measured against latencies, which do not scale.
 * Throws `DurationTooShortError` naming the first timing that would fall under 100 ms.
 */
export function scaleTimings(raw: Mutable, scale: number, runMs: number): ScaledTiming[] {
  if (!(scale < 1)) return [];
  const scaled: ScaledTiming[] = [];
  scaleKeys(raw.breaker as Mutable | undefined, breakerTimings, 'breaker.', scale, scaled);
  for (const [name, provider] of Object.entries((raw.providers ?? {}) as Record<string, Mutable>)) {
    scaleKeys(provider.breaker as Mutable | undefined, breakerTimings, `providers.${name}.breaker.`, scale, scaled);
    const health = provider.health_check as Mutable | undefined;
    if (health?.enabled !== false) scaleKeys(health, healthTimings, `providers.${name}.health_check.`, scale, scaled);
  }
  for (const [name, route] of Object.entries((raw.models ?? {}) as Record<string, Mutable>)) {
    scaleKeys(route.breaker as Mutable | undefined, breakerTimings, `models.${name}.breaker.`, scale, scaled);
    scaleKeys(route, ['wait_for_recovery_ms'], `models.${name}.`, scale, scaled);
  }
  const tooShort = scaled.find((timing) => timing.fromMs > 0 && timing.toMs < minScaledTimingMs);
  if (tooShort) {
    // Long enough for every timing, not only the one named.
    const shortest = Math.min(...scaled.filter((timing) => timing.fromMs > 0).map((timing) => timing.fromMs));
    const neededMs = Math.ceil((runMs * minScaledTimingMs) / (shortest * scale) / 1000) * 1000;
    throw new DurationTooShortError(
      `--duration ${formatMs(runMs)} is too short for ${tooShort.path} (${formatMs(tooShort.fromMs)}): scaled ×${scale.toFixed(3)} with the incidents it would be ${formatMs(tooShort.toMs)}, under the ${minScaledTimingMs} ms a drill can honour; use --duration ${neededMs / 1000}s or more`,
    );
  }
  return scaled.filter((timing) => timing.fromMs !== timing.toMs);
}

/** One line for the report: what was shrunk, and by how much. */
export function describeScaling(scaled: readonly ScaledTiming[], scale: number): string | undefined {
  if (scaled.length === 0) return undefined;
  const shown = scaled.map((timing) => `${timing.path} ${formatMs(timing.fromMs)} → ${formatMs(timing.toMs)}`).join(', ');
  return `timings scaled ×${scale.toFixed(3)} with the incidents (--duration shorter than the scenario): ${shown}; timeouts, backoff and fault latencies are not scaled`;
}

/** The longest health-check interval among a route's providers (after scaling), when any is probed. */
/** The longest recovery-probe interval of the route's targets (route over provider over global breaker settings). */
export function routeRecoveryProbeMs(config: DetourConfig, route: string): number {
  const routeConfig = config.models[route];
  let longest = 0;
  for (const target of routeConfig?.targets ?? []) {
    const ms = routeConfig?.breaker?.recovery_probe_ms ?? config.providers[target.provider]?.breaker?.recovery_probe_ms ?? config.breaker.recovery_probe_ms;
    longest = Math.max(longest, ms);
  }
  return longest || config.breaker.recovery_probe_ms;
}

export function routeHealthIntervalMs(config: DetourConfig, route: string): number | undefined {
  const routeConfig = config.models[route];
  if (!routeConfig) return undefined;
  let longest: number | undefined;
  for (const target of routeConfig.targets) {
    const check = config.providers[target.provider]?.health_check;
    if (!check || check.enabled === false) continue;
    longest = Math.max(longest ?? 0, check.interval_ms);
  }
  return longest;
}
