import { z } from 'zod';
import { toMs } from '../sim/faults.js';

const absolutePattern = /^\d+(\.\d+)?(ms|s|m)$/;
const sharePattern = /^(\d+(\.\d+)?)%$/;

/** A length of time: milliseconds as a number, or `"250ms"`, `"10s"`, `"2m"`. */
export const absoluteDurationSchema = z.union([z.number().nonnegative(), z.string().regex(absolutePattern, 'a duration such as 500ms, 10s or 2m')]);

/**
 * A point or span in a scenario: absolute (`10s`, as written for the scenario's natural length)
 * or a share of the run (`25%`), which follows `--duration` exactly.
 */
export const scenarioTimeSchema = z.union([
  absoluteDurationSchema,
  z.string().regex(sharePattern, 'a duration such as 10s, or a share of the run such as 25%'),
]);

export type ScenarioTime = z.infer<typeof scenarioTimeSchema>;

/**
 * Milliseconds into a run of `runMs` for a scenario time. Absolute times are multiplied by
 * `scale` (below 1 when the run is shorter than the scenario's natural length); shares are
 * taken of the run itself.
 */
export function resolveTime(value: ScenarioTime, runMs: number, scale: number): number {
  if (typeof value === 'string') {
    const share = sharePattern.exec(value);
    if (share) return (Number(share[1]) / 100) * runMs;
  }
  return toMs(value) * scale;
}

/**
 * A duration typed on the command line: `60s`, `90s`, `2m`, `1500ms`, or a bare number of
 * seconds (as people type it). Throws with a readable message otherwise.
 */
export function parseCliDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  if (absolutePattern.test(trimmed)) return toMs(trimmed);
  throw new Error(`"${text}" is not a duration (e.g. 60s, 2m, 1500ms)`);
}

/** `1.5 s`, `250 ms`, `2 min 5 s`: for people, in reports. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}
