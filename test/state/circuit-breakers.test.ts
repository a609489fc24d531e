import { describe, expect, it } from 'vitest';
import { defaultBreakerSettings, type BreakerSettings } from '../../src/core/breaker.js';
import { ManualClock } from '../../src/core/clock.js';
import { classifyStatus } from '../../src/core/errors.js';
import { EventBus, type EngineEvents } from '../../src/core/events.js';
import { classifyOutcome } from '../../src/core/target-outcome.js';
import { CircuitBreakers } from '../../src/state/circuit-breakers.js';
import { MemoryStateSpace, MemoryStateStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/state-store.js';

const target = 'openai/gpt-4o#0';
type Seen = Array<{ type: keyof EngineEvents; payload: unknown }>;

function instance(clock: ManualClock, space: MemoryStateSpace, instanceId: string, settings: BreakerSettings = defaultBreakerSettings) {
  const store = new MemoryStateStore({ clock, space });
  const events = new EventBus();
  const seen: Seen = [];
  for (const type of ['circuit.opened', 'circuit.half_opened', 'circuit.closed'] as const) events.on(type, (payload) => seen.push({ type, payload }));
  const breakers = new CircuitBreakers({ store, clock, events, settingsFor: () => settings, instanceId });
  return { store, breakers, seen };
}

function setup(settings?: BreakerSettings) {
  const clock = new ManualClock(0);
  const space = new MemoryStateSpace();
  return { clock, space, ...instance(clock, space, 'i1', settings) };
}

const failure = { outcome: 'failure' as const };
const success = { outcome: 'success' as const };

describe('CircuitBreakers', () => {
  it('opens after 5 failures in the window, with an event, and skips the target at once', async () => {
    const { clock, breakers, seen } = setup();
    for (let index = 0; index < 4; index++) {
      await breakers.record(target, failure);
      clock.advance(1_000);
    }
    expect(breakers.admission(target)).toBe('pass');
    await breakers.record(target, failure);
    expect(breakers.admission(target)).toBe('skip');
    expect(seen).toEqual([{ type: 'circuit.opened', payload: { target, reason: 'failure_count', cooldownMs: 30_000, until: 34_000, failures: 5, requests: 5 } }]);
  });

  it('opens on the failure rate too', async () => {
    const { breakers, seen } = setup({ ...defaultBreakerSettings, failureThreshold: 100 });
    for (let index = 0; index < 5; index++) await breakers.record(target, success);
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    expect(seen[0]).toMatchObject({ type: 'circuit.opened', payload: { reason: 'failure_rate', failures: 5, requests: 10 } });
  });

  it('never counts the client’s own 400s, nor a prompt too long for the model', async () => {
    const { breakers, seen } = setup();
    for (let index = 0; index < 20; index++) {
      await breakers.record(target, { outcome: classifyOutcome(classifyStatus(400)) });
      await breakers.record(target, { outcome: classifyOutcome({ kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' }) });
    }
    expect(breakers.admission(target)).toBe('pass');
    expect(seen).toEqual([]);
  });

  it('honours a longer retry-after from the failure that trips it', async () => {
    const { breakers, store } = setup();
    for (let index = 0; index < 4; index++) await breakers.record(target, failure);
    await breakers.record(target, { outcome: 'failure', retryAfterMs: 90_000 });
    expect(store.breakerView(target)).toMatchObject({ status: 'open', until: 90_000, cooldownMs: 90_000 });
  });

  it('lets a late retry-after extend an open circuit, and a late failure without one change nothing', async () => {
    const { clock, breakers, store, seen } = setup();
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    clock.advance(10_000);
    await breakers.record(target, failure);
    expect(store.breakerView(target)).toMatchObject({ until: 30_000 });
    await breakers.record(target, { outcome: 'failure', retryAfterMs: 5_000 });
    expect(store.breakerView(target)).toMatchObject({ until: 30_000 });
    await breakers.record(target, { outcome: 'failure', retryAfterMs: 60_000 });
    expect(store.breakerView(target)).toMatchObject({ until: 70_000 });
    expect(seen.filter((event) => event.type === 'circuit.opened')).toHaveLength(1);
  });

  it('walks the whole life: open, one probe, a failed probe doubles, a good probe closes', async () => {
    const { clock, breakers, store, seen } = setup();
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    clock.advance(30_000);
    expect(breakers.admission(target)).toBe('probe');
    expect(await breakers.tryAcquireProbe(target, 'r1')).toBe(true);
    expect(breakers.admission(target)).toBe('skip');
    expect(await breakers.tryAcquireProbe(target, 'r2')).toBe(false);
    // A slow request from before the opening reports late: it does not decide.
    await breakers.record(target, success);
    expect(store.breakerView(target).status).toBe('half_open');
    await breakers.record(target, { outcome: 'failure', probeRequestId: 'r1' });
    expect(store.breakerView(target)).toMatchObject({ status: 'open', cooldownMs: 60_000, until: 90_000, reason: 'probe_failed' });
    clock.advance(60_000);
    expect(await breakers.tryAcquireProbe(target, 'r3')).toBe(true);
    await breakers.record(target, { outcome: 'success', probeRequestId: 'r3' });
    expect(breakers.admission(target)).toBe('pass');
    expect(seen.map((event) => event.type)).toEqual(['circuit.opened', 'circuit.half_opened', 'circuit.opened', 'circuit.half_opened', 'circuit.closed']);
    expect(seen[1]).toEqual({ type: 'circuit.half_opened', payload: { target, probe: 'i1/r1' } });
    expect(seen[4]).toEqual({ type: 'circuit.closed', payload: { target, reason: 'probe_succeeded' } });
  });

  it('frees the probe when it ends saying nothing of the target', async () => {
    const { clock, breakers } = setup();
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    clock.advance(30_000);
    await breakers.tryAcquireProbe(target, 'r1');
    await breakers.record(target, { outcome: 'neutral', probeRequestId: 'r1' });
    expect(breakers.admission(target)).toBe('probe');
    expect(await breakers.tryAcquireProbe(target, 'r2')).toBe(true);
  });

  it('starts counting afresh after closing', async () => {
    const { clock, breakers } = setup();
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    clock.advance(30_000);
    await breakers.tryAcquireProbe(target, 'r1');
    await breakers.record(target, { outcome: 'success', probeRequestId: 'r1' });
    for (let index = 0; index < 4; index++) await breakers.record(target, failure);
    expect(breakers.admission(target)).toBe('pass');
  });

  it('sends exactly one probe across two instances, and each instance reports only its own transitions', async () => {
    const { clock, space, breakers, seen } = setup();
    const peer = instance(clock, space, 'i2');
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    expect(peer.breakers.admission(target)).toBe('skip');
    clock.advance(30_000);
    const won = await Promise.all([breakers.tryAcquireProbe(target, 'r1'), peer.breakers.tryAcquireProbe(target, 'r1')]);
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(seen.filter((event) => event.type === 'circuit.half_opened').length + peer.seen.filter((event) => event.type === 'circuit.half_opened').length).toBe(1);
    expect(peer.seen.filter((event) => event.type === 'circuit.opened')).toEqual([]);
  });

  it('opens for an unhealthy check and closes when it recovers; a traffic-opened circuit waits for its probe', async () => {
    const { breakers, store, seen } = setup();
    await breakers.openForHealth(target);
    expect(store.breakerView(target)).toMatchObject({ status: 'open', reason: 'health_check', cooldownMs: 300_000 });
    await breakers.closeForHealth(target);
    expect(store.breakerView(target).status).toBe('closed');
    expect(seen.map((event) => event.payload)).toEqual([
      { target, reason: 'health_check', cooldownMs: 300_000, until: 300_000, failures: undefined, requests: undefined },
      { target, reason: 'health_recovered' },
    ]);
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    await breakers.closeForHealth(target);
    expect(store.breakerView(target)).toMatchObject({ status: 'open', reason: 'failure_count' });
  });

  it('resets on an operator’s demand', async () => {
    const { breakers, seen } = setup();
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    await breakers.reset(target);
    expect(breakers.admission(target)).toBe('pass');
    expect(seen.at(-1)).toEqual({ type: 'circuit.closed', payload: { target, reason: 'reset' } });
  });

  it('carries on when the store fails, and says so', async () => {
    const clock = new ManualClock();
    const store = new MemoryStateStore({ clock });
    const failing: StateStore = Object.assign(Object.create(store) as StateStore, {
      transitionBreaker: () => Promise.reject(new Error('store down')),
    });
    const errors: unknown[] = [];
    const breakers = new CircuitBreakers({ store: failing, clock, events: new EventBus(), settingsFor: () => defaultBreakerSettings, instanceId: 'i1', onStoreError: (error) => errors.push(error) });
    for (let index = 0; index < 5; index++) await breakers.record(target, failure);
    expect(await breakers.tryAcquireProbe(target, 'r1')).toBe(false);
    expect(errors).toHaveLength(2);
    expect(breakers.admission(target)).toBe('pass');
  });
});
