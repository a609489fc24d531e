import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { ProviderSettings, RouteSettings, Target } from '../../src/core/settings.js';
import type { Priority } from '../../src/core/wait-queue.js';
import { CapacityQueue, waitForCapacity } from '../../src/engine/capacity-queue.js';
import { RecoveryWaiters } from '../../src/engine/recovery-waiters.js';
import { TargetLimiter, type LimitAdmission } from '../../src/engine/target-limits.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const provider: ProviderSettings = { name: 'p', type: 'openai', baseUrl: 'http://127.0.0.1:1', apiKeys: ['k'], headers: {}, options: {} };
const target: Target = { id: 'p/m', provider, model: 'm', apiKey: 'k', keyIndex: 0, settings: { provider: 'p', model: 'm', weight: 1 } };

function setup(start = 1_000_000) {
  const clock = new ManualClock(start);
  const store = new MemoryStateStore({ clock });
  const limiter = new TargetLimiter({ store, clock });
  return { clock, store, limiter };
}

async function admit(limiter: TargetLimiter, tokens = 0): Promise<LimitAdmission> {
  return limiter.admit(target, tokens);
}

describe('declared limits: reservation and settlement (fake clock)', () => {
  it('admits a tenth of 60 rpm per 10 s and refuses the rest, saying when the next bucket frees room', async () => {
    const { clock, limiter } = setup(1_000_000);
    limiter.declare(target, { rpm: 60 });
    const results = [];
    for (let index = 0; index < 15; index++) results.push(await admit(limiter));
    expect(results.filter((result) => result.isAdmitted)).toHaveLength(10);
    const refused = results.find((result) => !result.isAdmitted);
    expect(refused).toMatchObject({ isAdmitted: false, freeAt: 1_001_000 });
    // A refused request is undone: the window holds exactly the ten admitted.
    expect(limiter.headroom(target.id)).toEqual([{ kind: 'requests', source: 'declared', remaining: 0, limit: 10, perMinute: 60 }]);
    clock.advance(10_999);
    expect((await admit(limiter)).isAdmitted).toBe(false);
    clock.advance(1);
    expect((await admit(limiter)).isAdmitted).toBe(true);
  });

  it('reserves input + max_tokens against tpm and settles to the actual usage, giving back the rest', async () => {
    const { limiter, store } = setup();
    limiter.declare(target, { tpm: 60_000 });
    // 10,000 tokens per 10 s: two requests reserving 4,000 each, a third (earlier use 8,000 < 10,000) still fits, a fourth does not.
    const first = await admit(limiter, 4000);
    const second = await admit(limiter, 4000);
    const third = await admit(limiter, 4000);
    const fourth = await admit(limiter, 4000);
    expect([first, second, third, fourth].map((result) => result.isAdmitted)).toEqual([true, true, true, false]);
    if (!first.isAdmitted || !second.isAdmitted) throw new Error('unreachable');
    let freed = 0;
    limiter.onFreed(() => freed++);
    // The first used 500 tokens, the second failed before the provider counted it.
    limiter.settle(first.ticket, 500);
    limiter.settle(second.ticket, undefined);
    limiter.settle(second.ticket, 9999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.readCounter('limit:p/m:tpm:10000', { windowMs: 10_000, bucketCount: 10 })).toBe(500 + 4000);
    expect(freed).toBe(2);
    expect((await admit(limiter, 4000)).isAdmitted).toBe(true);
  });

  it('a target override replaces the provider limit, and a target without limits is admitted without the store', () => {
    const { limiter } = setup();
    limiter.declare(target, undefined);
    const admitted = limiter.admit(target, 0);
    expect(admitted instanceof Promise).toBe(false);
    expect(limiter.needsTokens(target)).toBe(false);
  });
});

describe('learned limits in the limiter (fake clock)', () => {
  it('stops sending when the provider said none is left, counting what was sent since, until its reset', async () => {
    const { clock, limiter } = setup();
    const tickets = [];
    for (let index = 0; index < 3; index++) {
      const result = await admit(limiter);
      if (!result.isAdmitted) throw new Error('refused');
      tickets.push(result.ticket);
    }
    // The first request's answer: 2 left, reset in 800 ms. Two more were sent after it: none left.
    limiter.observe(tickets[0]!, 200, { 'x-ratelimit-remaining-requests': '2', 'x-ratelimit-reset-requests': '800ms' });
    const refused = await admit(limiter);
    expect(refused).toMatchObject({ isAdmitted: false, freeAt: clock.now() + 800 });
    expect(limiter.headroom(target.id)).toEqual([{ kind: 'requests', source: 'learned', remaining: 0, limit: undefined, resetAt: clock.now() + 800 }]);
    clock.advance(800);
    expect((await admit(limiter)).isAdmitted).toBe(true);
  });

  it('a 429 with retry-after blocks the target for that long', async () => {
    const { clock, limiter } = setup();
    const result = await admit(limiter);
    if (!result.isAdmitted) throw new Error('refused');
    limiter.observe(result.ticket, 429, { 'retry-after': '2' });
    expect((await admit(limiter)).isAdmitted).toBe(false);
    clock.advance(2000);
    expect((await admit(limiter)).isAdmitted).toBe(true);
  });
});

describe('the capacity queue (fake clock)', () => {
  const route = { name: 'chat', queue: { max: 10, timeoutMs: 30_000 } } as RouteSettings;

  function queueSetup() {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const store = new MemoryStateStore({ clock });
    const waiters = new RecoveryWaiters(store, timers);
    const queue = new CapacityQueue(route.name, route.queue);
    return { clock, timers, waiters, queue };
  }

  it('lets one request through per opening, high before normal before low, first come first served within one', async () => {
    const { clock, timers, waiters, queue } = queueSetup();
    let room = 0;
    const served: string[] = [];
    const waits: Array<Promise<unknown>> = [];
    const arrivals: Array<[string, Priority]> = [['low1', 'low'], ['normal1', 'normal'], ['high1', 'high'], ['low2', 'low'], ['high2', 'high']];
    for (const [name, priority] of arrivals) {
      waits.push(
        waitForCapacity({
          queue,
          waiters,
          clock,
          priority,
          targets: new Set(['t']),
          signal: new AbortController().signal,
          until: 30_000,
          freeAt: 1000,
          look: async (leave) => {
            if (room === 0) return { type: 'at_limit', freeAt: clock.now() + 1000 };
            room--;
            leave();
            served.push(name);
            return { type: 'done', value: name };
          },
        }),
      );
    }
    expect(queue.depth()).toEqual({ high: 2, normal: 1, low: 2, recovery: 0 });
    for (let second = 1; second <= 5; second++) {
      room = 1;
      timers.advance(1000);
      await flush();
    }
    await Promise.all(waits);
    expect(served).toEqual(['high1', 'high2', 'normal1', 'low1', 'low2']);
    expect(queue.depth()).toEqual({ high: 0, normal: 0, low: 0, recovery: 0 });
  });

  it('answers full beyond max, and times out at its bound with when room may open', async () => {
    const { clock, timers, waiters } = queueSetup();
    const queue = new CapacityQueue('chat', { max: 1, timeoutMs: 5000 });
    const look = async () => ({ type: 'at_limit' as const, freeAt: clock.now() + 1000 });
    const input = { queue, waiters, clock, priority: 'normal' as Priority, targets: new Set(['t']), signal: new AbortController().signal, until: 5000, freeAt: 1000, look };
    const first = waitForCapacity(input);
    expect(await waitForCapacity(input)).toEqual({ type: 'full' });
    for (let step = 0; step < 6; step++) {
      timers.advance(1000);
      await flush();
    }
    expect(await first).toMatchObject({ type: 'timeout', waitedMs: 5000 });
    expect(queue.depth().normal).toBe(0);
  });
});

async function flush(): Promise<void> {
  for (let index = 0; index < 20; index++) await Promise.resolve();
}
