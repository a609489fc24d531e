import type { AbortSource } from './abort-source.js';

/** Milliseconds since the epoch; injected so that time-dependent decisions can be tested without sleeping. */
export interface Clock {
  now(): number;
}

/** A uniform random number in [0, 1); injected so that jitter and weighted choices are reproducible in tests. */
export type Random = () => number;

export const systemClock: Clock = { now: () => Date.now() };

export const systemRandom: Random = Math.random;

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/** A deterministic generator (mulberry32) for seeded tests and reproducible drills. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A pending timer: cancel it, or push it back by its full delay. */
export interface TimerHandle {
  clear(): void;
  /** Restarts the countdown from now, with the same delay. */
  refresh(): void;
}

/**
 * Schedules callbacks; injected beside the clock so that everything time-driven (timeouts,
 * backoffs, hedge delays) can run on a test's time. The system one never keeps the process alive
 * on its own account: callers that need that hold something else open.
 */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
}

export const systemTimers: Timers = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    return { clear: () => clearTimeout(timer), refresh: () => void timer.refresh() };
  },
};

/** Waits `ms` on `timers`; rejects with the signal's reason when it aborts first. */
export function waitOn(timers: Timers, ms: number, signal: AbortSource): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      handle.clear();
      reject(signal.reason);
    };
    const handle = timers.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
