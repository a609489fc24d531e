import { describe, expect, it } from 'vitest';
import { defaultBreakerSettings } from '../../src/core/breaker.js';
import { ManualClock } from '../../src/core/clock.js';
import { EventBus } from '../../src/core/events.js';
import { RecoveryWaiters } from '../../src/engine/recovery-waiters.js';
import { CircuitBreakers } from '../../src/state/circuit-breakers.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { ManualTimers } from '../helpers/manual-timers.js';

function setup() {
  const clock = new ManualClock(0);
  const timers = new ManualTimers(clock);
  const store = new MemoryStateStore({ clock });
  const breakers = new CircuitBreakers({ store, clock, events: new EventBus(), settingsFor: () => ({ ...defaultBreakerSettings, failureThreshold: 1 }), instanceId: 'i1' });
  const waiters = new RecoveryWaiters(store, timers);
  return { clock, timers, store, breakers, waiters };
}

describe('requests waiting for a down route', () => {
  it('are released together, at once, when a circuit they wait on closes, and not by other targets', async () => {
    const { timers, breakers, waiters } = setup();
    await breakers.record('a', { outcome: 'failure' });
    await breakers.record('b', { outcome: 'failure' });
    const signal = new AbortController().signal;
    const released: string[] = [];
    const onA = [1, 2, 3].map((n) => waiters.wait(new Set(['a']), 10_000, signal).then(() => released.push(`a${n}`)));
    const onB = waiters.wait(new Set(['b']), 10_000, signal).then(() => released.push('b'));
    expect(waiters.size).toBe(4);
    // The first recovery probe of `a` is due after recoveryProbeMs; it succeeds.
    timers.clock.advance(1_000);
    expect(await breakers.tryAcquireRecoveryProbe('a', 'r9')).toBe(true);
    await Promise.resolve();
    await breakers.record('a', { outcome: 'success', probeRequestId: 'r9' });
    await Promise.all(onA);
    expect(released).toEqual(['a1', 'a2', 'a3']);
    expect(waiters.size).toBe(1);
    // `b` waits on: only its own change or its time releases it.
    timers.advance(9_000);
    await onB;
    expect(released).toEqual(['a1', 'a2', 'a3', 'b']);
  });

  it('a wait ends when its time is up, and rejects when the client leaves', async () => {
    const { timers, waiters } = setup();
    const client = new AbortController();
    let isDone = false;
    const timed = waiters.wait(new Set(['a']), 500, new AbortController().signal).then(() => (isDone = true));
    timers.advance(499);
    await Promise.resolve();
    expect(isDone).toBe(false);
    timers.advance(1);
    await timed;
    const left = waiters.wait(new Set(['a']), 5_000, client.signal);
    client.abort(new Error('gone'));
    await expect(left).rejects.toThrow('gone');
    expect(waiters.size).toBe(0);
  });
});
