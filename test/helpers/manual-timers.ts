import { ManualClock, type TimerHandle, type Timers } from '../../src/core/clock.js';

/** Timers that fire only when the test moves the clock: `advance` runs every timer that came due, in order. */
export class ManualTimers implements Timers {
  private readonly pending = new Set<{ at: number; ms: number; callback: () => void }>();

  constructor(readonly clock: ManualClock = new ManualClock(0)) {}

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const entry = { at: this.clock.now() + ms, ms, callback };
    this.pending.add(entry);
    return {
      clear: () => this.pending.delete(entry),
      refresh: () => {
        entry.at = this.clock.now() + entry.ms;
      },
    };
  }

  /** Moves the clock by `ms`, firing due timers one by one (each at its own time). */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (;;) {
      const next = [...this.pending].filter((entry) => entry.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.pending.delete(next);
      this.clock.set(Math.max(this.clock.now(), next.at));
      next.callback();
    }
    this.clock.set(end);
  }

  get size(): number {
    return this.pending.size;
  }
}
