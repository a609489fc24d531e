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
