import type { Registry } from 'prom-client';

/** A series' labels: only its family's label names, each at most once. */
export type SeriesLabels<L extends string> = Readonly<Partial<Record<L, string>>>;

interface KeyedMetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: readonly Registry[];
}

/**
 * The key of one series: its label values in the family's order. Label values are names from the
 * config or Detour's own codes (`LabelBounds`), none of which holds a NUL.
 */
export function seriesKey(...values: ReadonlyArray<string | undefined>): string {
  return values.join('\u0000');
}

/** What a keyed metric family is to a prom-client registry: its name, help and label names, and its series by key. */
abstract class KeyedFamily<L extends string, S> {
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, S>();

  constructor(options: KeyedMetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The registry takes any object with a name and `get()`; prom-client's types name only its own classes.
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  reset(): void {
    this.series.clear();
  }
}

/**
 * A counter for the per-request path. prom-client finds a series by validating and hashing its
 * label object on every `inc` (0.2–0.4 µs each, several times a request); here the caller names
 * the series by `seriesKey` of its label values and a Map finds the running total. It registers
 * in a prom-client registry like any metric and reads out exactly as a prom-client `Counter` given
 * the same increments would (`test/observability/keyed-metrics.test.ts`).
 */
export class KeyedCounter<L extends string> extends KeyedFamily<L, { value: number; labels: SeriesLabels<L> }> {
  readonly type = 'counter';

  /** Adds `value` (default 1) to the series `key`; `labels` are kept the first time the key is seen. */
  inc(key: string, labels: SeriesLabels<L>, value = 1): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (value < 0) throw new Error('It is not possible to decrease a counter');
    const entry = this.series.get(key);
    if (entry) entry.value += value;
    else this.series.set(key, { value, labels });
  }

  get(): Promise<{ name: string; help: string; type: 'counter'; values: Array<{ value: number; labels: SeriesLabels<L> }>; aggregator: 'sum' }> {
    return Promise.resolve({ help: this.help, name: this.name, type: this.type, values: [...this.series.values()].map(({ value, labels }) => ({ value, labels })), aggregator: this.aggregator });
  }
}

interface HistogramSeries<L extends string> {
  labels: SeriesLabels<L>;
  /** Observations per bucket, not cumulative: `counts[i]` holds those in (bound i-1, bound i]. */
  counts: number[];
  sum: number;
  count: number;
}

interface HistogramValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * A histogram for the per-request path, keyed like `KeyedCounter`: an observation is a Map lookup
 * and a bucket search, where prom-client also validates and hashes the labels and makes a closure.
 * Reads out exactly as a prom-client `Histogram` with the same buckets and observations.
 */
export class KeyedHistogram<L extends string> extends KeyedFamily<L, HistogramSeries<L>> {
  readonly type = 'histogram';
  private readonly upperBounds: readonly number[];

  constructor(options: KeyedMetricOptions<L> & { buckets: readonly number[] }) {
    for (let index = 1; index < options.buckets.length; index++) {
      if (options.buckets[index]! <= options.buckets[index - 1]!) throw new Error(`${options.name}: buckets must increase`);
    }
    super(options);
    this.upperBounds = [...options.buckets];
  }

  observe(key: string, labels: SeriesLabels<L>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, counts: new Array<number>(this.upperBounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    entry.sum += value;
    entry.count += 1;
    const bounds = this.upperBounds;
    for (let index = 0; index < bounds.length; index++) {
      if (value <= bounds[index]!) {
        entry.counts[index]! += 1;
        break;
      }
    }
  }

  /** The text exposition's view: bucket bounds as labels of their own, the series' labels shared. */
  getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: HistogramValue[]; aggregator: 'sum' }> {
    const values: HistogramValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const entry of this.series.values()) {
      const shared = entry.labels as Record<string, string>;
      let cumulative = 0;
      for (let index = 0; index < this.upperBounds.length; index++) {
        cumulative += entry.counts[index]!;
        values.push({ labels: { le: this.upperBounds[index]! }, sharedLabels: shared, value: cumulative, metricName: bucketName, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: shared, value: entry.count, metricName: bucketName, exemplar: null });
      values.push({ labels: {}, sharedLabels: shared, value: entry.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: shared, value: entry.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The JSON view: each value's labels whole (bound first, then the series'). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: Array<Omit<HistogramValue, 'sharedLabels'>>; aggregator: 'sum' }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) };
  }
}
