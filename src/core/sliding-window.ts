/**
 * A bucketed sliding-window counter as plain data, so that the same state can live in memory,
 * be handed to a pure transition, or be stored as JSON elsewhere.
 *
 * The window is cut into `bucketCount` buckets aligned on multiples of the bucket length. A
 * bucket counts while any part of it overlaps the last `windowMs`, so the window remembers
 * events for at least `windowMs` and at most one bucket longer: it never forgets early, which
 * errs towards opening a breaker a little sooner rather than later.
 */

/** The shape of a window. */
export interface WindowSpec {
  /** How far back the window reaches, in milliseconds. */
  windowMs: number;
  /** How many buckets the window is cut into; more buckets mean sharper edges and more memory. */
  bucketCount: number;
}

/** One bucket: the events counted from `start` (epoch ms) for one bucket length. */
export interface WindowBucket {
  readonly start: number;
  readonly count: number;
}

/** A window's buckets, oldest first. Treated as immutable: every update returns a new array. */
export type WindowState = readonly WindowBucket[];

export const emptyWindow: WindowState = [];

/** The length of one bucket, in milliseconds (at least 1). */
export function bucketLengthMs(spec: WindowSpec): number {
  return Math.max(1, Math.ceil(spec.windowMs / Math.max(1, spec.bucketCount)));
}

/** The buckets still inside the window at `now`; the same array when none has expired. */
export function pruneWindow(state: WindowState, spec: WindowSpec, now: number): WindowState {
  const length = bucketLengthMs(spec);
  const oldestLiveEnd = now - spec.windowMs;
  let firstLive = 0;
  while (firstLive < state.length && (state[firstLive] as WindowBucket).start + length <= oldestLiveEnd) firstLive++;
  return firstLive === 0 ? state : state.slice(firstLive);
}

/** Adds `amount` events at `now` and drops expired buckets. */
export function addToWindow(state: WindowState, spec: WindowSpec, now: number, amount = 1): WindowState {
  const length = bucketLengthMs(spec);
  const start = Math.floor(now / length) * length;
  const live = pruneWindow(state, spec, now);
  const last = live[live.length - 1];
  // A clock that stepped backwards (NTP) must not reorder buckets: count into the newest one.
  if (last !== undefined && last.start >= start) {
    return [...live.slice(0, -1), { start: last.start, count: last.count + amount }];
  }
  return [...live, { start, count: amount }];
}

/**
 * Adds `amount` into the bucket that holds `at` (an earlier time), keeping the buckets in order;
 * nothing when that bucket has already left the window at `now`. Undoes or settles an earlier
 * addition in the very bucket it went to.
 */
export function addToWindowAt(state: WindowState, spec: WindowSpec, now: number, at: number, amount: number): WindowState {
  const length = bucketLengthMs(spec);
  const start = Math.floor(at / length) * length;
  const live = pruneWindow(state, spec, now);
  if (start + length <= now - spec.windowMs) return live;
  const index = live.findIndex((bucket) => bucket.start >= start);
  if (index === -1) return [...live, { start, count: amount }];
  const found = live[index] as WindowBucket;
  if (found.start === start) return [...live.slice(0, index), { start, count: found.count + amount }, ...live.slice(index + 1)];
  return [...live.slice(0, index), { start, count: amount }, ...live.slice(index)];
}

/** The events counted inside the window at `now`. */
export function windowTotal(state: WindowState, spec: WindowSpec, now: number): number {
  let total = 0;
  for (const bucket of pruneWindow(state, spec, now)) total += bucket.count;
  return total;
}

/**
 * A mutable single-owner counter over a window, for local accounting (retry budgets) where the
 * plain-data form would only add ceremony.
 */
export class SlidingWindowCounter {
  private state: WindowState = emptyWindow;

  constructor(private readonly spec: WindowSpec) {}

  add(now: number, amount = 1): number {
    this.state = addToWindow(this.state, this.spec, now, amount);
    return windowTotal(this.state, this.spec, now);
  }

  total(now: number): number {
    this.state = pruneWindow(this.state, this.spec, now);
    return windowTotal(this.state, this.spec, now);
  }
}
