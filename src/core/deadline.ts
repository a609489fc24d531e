import type { Clock } from './clock.js';

/**
 * One deadline per request, shared by every attempt, backoff and fallback, so that no step
 * starts that cannot finish in time.
 */
export class Deadline {
  readonly expiresAt: number;

  constructor(
    private readonly clock: Clock,
    timeoutMs: number,
  ) {
    this.expiresAt = clock.now() + timeoutMs;
  }

  remainingMs(): number {
    return Math.max(0, this.expiresAt - this.clock.now());
  }

  isExpired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** Whether a wait of `waitMs` still leaves `thenNeedMs` for the step that follows it. */
  allows(waitMs: number, thenNeedMs: number): boolean {
    return this.remainingMs() - waitMs >= thenNeedMs;
  }
}
