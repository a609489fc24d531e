import type { Clock } from '../../core/clock.js';

/** Wrong tokens in a row forgiven at once (a typo, a paste of the wrong line). */
const freeFailures = 3;
/** First wait after the free ones; it doubles with every further wrong token. */
const firstDelayMs = 1000;
const maxDelayMs = 15 * 60_000;
/** Addresses remembered at once; past it, the ones whose wait is over are forgotten first. */
const maxAddresses = 10_000;

interface Failures {
  count: number;
  /** No attempt from this address is even checked before this (epoch ms). */
  blockedUntil: number;
  lastAt: number;
}

/**
 * Exponential backoff of sign-in attempts per client address: after three wrong tokens in a
 * row, the n-th one makes the address wait 1 s × 2^(n-4) (at most 15 min) before its next
 * attempt is looked at; attempts before then are refused unchecked, so guessing runs at a few
 * tries per hour within minutes. A right token clears the address; a quiet one is forgiven
 * after an hour.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly clock: Clock) {}

  /** Milliseconds the address must still wait, 0 when it may try now. */
  waitMs(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const now = this.clock.now();
    if (now - entry.lastAt > 3_600_000) {
      this.failures.delete(address);
      return 0;
    }
    return Math.max(0, entry.blockedUntil - now);
  }

  recordFailure(address: string): number {
    const now = this.clock.now();
    if (this.failures.size >= maxAddresses) this.prune(now);
    const previous = this.failures.get(address);
    const count = (previous?.count ?? 0) + 1;
    const delay = count <= freeFailures ? 0 : Math.min(maxDelayMs, firstDelayMs * 2 ** Math.min(count - freeFailures - 1, 30));
    this.failures.set(address, { count, blockedUntil: now + delay, lastAt: now });
    return delay;
  }

  recordSuccess(address: string): void {
    this.failures.delete(address);
  }

  private prune(now: number): void {
    for (const [address, entry] of this.failures) if (entry.blockedUntil <= now) this.failures.delete(address);
    if (this.failures.size >= maxAddresses) this.failures.clear();
  }
}
