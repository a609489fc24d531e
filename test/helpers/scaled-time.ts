import type { Clock, TimerHandle, Timers } from '../../src/core/clock.js';

/**
 * A clock and timers on which time runs `factor` times faster than the wall: a gateway built on
 * them lives through a 90 s stream in 90 / factor s, with its default timeouts as they are.
 */
export function scaledTime(factor: number): { clock: Clock; timers: Timers } {
  const origin = Date.now();
  const clock: Clock = { now: () => origin + (Date.now() - origin) * factor };
  const timers: Timers = {
    setTimeout(callback, ms): TimerHandle {
      const timer = setTimeout(callback, Math.max(0, ms / factor));
      return { clear: () => clearTimeout(timer), refresh: () => void timer.refresh() };
    },
  };
  return { clock, timers };
}
