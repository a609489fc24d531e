import { setFlagsFromString } from 'node:v8';

/** `--heap-growth`'s default: V8's own heuristic (a fixed growth costs CPU, below). */
export const defaultHeapGrowthPercent = 0;

/**
 * How far V8 lets the old generation grow past what its last full collection kept before it
 * collects again. V8's own factor goes up to 4 × when collections are cheap, which they are for a
 * gateway (it keeps little and allocates per request), so under load much of the process's peak
 * memory is garbage waiting for a collection. For an operator under a memory cap: at 128
 * connections, 25% held the peak at 156–169 MB against 191–231 MB, for about 1.2 × the CPU per
 * request (full collections back to back keep the marking barrier on); 100% gave 165–184 MB at
 * about the same CPU as V8's own (bench/README.md). 0, the default, leaves V8's heuristic.
 *
 * A process setting, so only the CLI that owns the process makes it; a library gateway leaves
 * its host's heap alone. V8 reads the flag each time it sets the next limit, so setting it after
 * start takes effect at the next collection.
 */
export function setHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
