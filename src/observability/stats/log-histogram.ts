/**
 * A latency histogram with logarithmic bins (each 10 % wider than the last, 1 ms to 1 h), so
 * percentiles of any window are computed by merging bins, never by keeping samples. A reported
 * percentile is within about 5 % of the exact one (bins are interpolated linearly), which is well
 * below the noise of network latency; its memory is fixed whatever the traffic.
 */
const growth = 1.1;
const logGrowth = Math.log(growth);
const maxMs = 3_600_000;
/** Bin i holds values in (growth^(i-1), growth^i] ms; bin 0 holds everything up to 1 ms. */
export const binCount = Math.ceil(Math.log(maxMs) / logGrowth) + 1;

function binOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(binCount - 1, Math.ceil(Math.log(ms) / logGrowth));
}

function upperBound(bin: number): number {
  return bin === 0 ? 1 : growth ** bin;
}

function lowerBound(bin: number): number {
  return bin === 0 ? 0 : growth ** (bin - 1);
}

export class LogHistogram {
  /** Allocated on the first sample: most buckets of most series never see one. */
  private bins: Uint32Array | undefined;
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.bins ??= new Uint32Array(binCount);
    const bin = binOf(ms);
    this.bins[bin] = (this.bins[bin] ?? 0) + 1;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: LogHistogram): void {
    if (other.count === 0 || !other.bins) return;
    this.bins ??= new Uint32Array(binCount);
    for (let bin = 0; bin < binCount; bin++) this.bins[bin] = (this.bins[bin] ?? 0) + (other.bins[bin] ?? 0);
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /** The q-quantile (0 < q ≤ 1) in ms, or undefined without samples. */
  quantile(q: number): number | undefined {
    if (this.count === 0 || !this.bins) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let bin = 0; bin < binCount; bin++) {
      const inBin = this.bins[bin] ?? 0;
      if (inBin === 0) continue;
      if (seen + inBin >= rank) {
        const low = Math.max(lowerBound(bin), this.min);
        const high = Math.min(upperBound(bin), this.max);
        const fraction = (rank - seen) / inBin;
        return low + (high - low) * fraction;
      }
      seen += inBin;
    }
    return this.max;
  }

  /** Mean in ms, or undefined without samples. */
  mean(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count;
  }
}
