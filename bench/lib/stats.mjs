// Small numeric helpers shared by the probes and the report.

/** The q-th quantile (0..1) of an unsorted list, nearest-rank; undefined when empty. */
export function quantile(values, q) {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function mean(values) {
  if (values.length === 0) return undefined;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

export function summarize(values) {
  return { count: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), mean: mean(values) };
}

/** `a - b` when both are known. */
export function difference(a, b) {
  return a === undefined || b === undefined || a === null || b === null ? undefined : a - b;
}

export function ratio(a, b) {
  return a === undefined || b === undefined || !b ? undefined : a / b;
}
