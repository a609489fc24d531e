import { describe, expect, it } from 'vitest';
import { defaultBreakerSettings } from '../../src/core/breaker.js';
import { ManualClock, seededRandom } from '../../src/core/clock.js';
import { EventBus, type HealthChangedEvent } from '../../src/core/events.js';
import { defaultHealthSettings } from '../../src/core/health.js';
import { CircuitBreakers } from '../../src/state/circuit-breakers.js';
import { HealthTracker } from '../../src/state/health-tracker.js';
import { MemoryStateSpace, MemoryStateStore } from '../../src/state/memory-store.js';

const target = 'openai/gpt-4o';

function setup(space = new MemoryStateSpace(), clock = new ManualClock(0), instanceId = 'i1') {
  const store = new MemoryStateStore({ clock, space });
  const events = new EventBus();
  const changes: HealthChangedEvent[] = [];
  events.on('health.changed', (event) => changes.push(event));
  const breakers = new CircuitBreakers({ store, clock, events, settingsFor: () => defaultBreakerSettings, instanceId });
  const tracker = new HealthTracker({ store, clock, random: seededRandom(1), events, breakers, settingsFor: () => defaultHealthSettings, instanceId });
  return { clock, space, store, breakers, tracker, changes };
}

describe('HealthTracker', () => {
  it('opens the circuit when a target turns unhealthy, before any traffic fails, and closes it on recovery', async () => {
    const { clock, breakers, tracker, changes } = setup();
    const steps: Array<{ isHealthy: boolean; admission: string }> = [
      { isHealthy: true, admission: 'pass' },
      { isHealthy: false, admission: 'pass' },
      { isHealthy: false, admission: 'skip' },
      { isHealthy: true, admission: 'skip' },
      { isHealthy: true, admission: 'pass' },
    ];
    for (const step of steps) {
      await tracker.record(target, { isHealthy: step.isHealthy, error: step.isHealthy ? undefined : 'HTTP 503' });
      expect(breakers.admission(target)).toBe(step.admission);
      clock.advance(10_000);
    }
    expect(changes).toEqual([
      { target, from: 'unknown', to: 'healthy', error: undefined },
      { target, from: 'healthy', to: 'unhealthy', error: 'HTTP 503' },
      { target, from: 'unhealthy', to: 'healthy', error: undefined },
    ]);
  });

  it('schedules the first check within one interval, then one jittered interval after the last', async () => {
    const { clock, tracker } = setup();
    clock.set(1_000_000);
    const first = tracker.nextCheckAt(target);
    expect(first).toBeGreaterThanOrEqual(1_000_000);
    expect(first).toBeLessThan(1_030_000);
    await tracker.record(target, { isHealthy: true });
    const next = tracker.nextCheckAt(target);
    expect(next - 1_000_000).toBeGreaterThanOrEqual(27_000);
    expect(next - 1_000_000).toBeLessThanOrEqual(33_000);
  });

  it('makes one instance of a cluster the prober of a scope', async () => {
    const one = setup();
    const two = setup(one.space, one.clock, 'i2');
    expect(await one.tracker.tryLead('openai', 60_000)).toBe(true);
    expect(await two.tracker.tryLead('openai', 60_000)).toBe(false);
    expect(await two.tracker.tryLead('anthropic', 60_000)).toBe(true);
    await one.tracker.stepDown('openai');
    expect(await two.tracker.tryLead('openai', 60_000)).toBe(true);
  });
});
