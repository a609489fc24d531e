import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { MemoryStateSpace, MemoryStateStore } from '../../src/state/memory-store.js';
import { describeStateStoreContract } from './state-store-contract.js';

describeStateStoreContract('memory', async (clock) => {
  const space = new MemoryStateSpace();
  const stores = [new MemoryStateStore({ clock, space }), new MemoryStateStore({ clock, space })] as const;
  return { stores, dispose: async () => void (await Promise.all(stores.map((store) => store.close()))) };
});

describe('MemoryStateStore', () => {
  it('keeps its own state when given no space', async () => {
    const clock = new ManualClock();
    const one = new MemoryStateStore({ clock });
    const two = new MemoryStateStore({ clock });
    await one.acquireLease('l', 'a', 1_000);
    expect(await two.acquireLease('l', 'b', 1_000)).toBe(true);
  });

  it('refuses work once closed, and hears nothing more', async () => {
    const clock = new ManualClock();
    const space = new MemoryStateSpace();
    const store = new MemoryStateStore({ clock, space });
    const peer = new MemoryStateStore({ clock, space });
    let heard = 0;
    store.onChange(() => heard++);
    await store.close();
    await peer.transitionBreaker('t', (state, now) => (state.status === 'closed' ? { status: 'closed', since: now + 1 } : state));
    expect(heard).toBe(0);
    await expect(store.transitionBreaker('t', (state) => state)).rejects.toThrow('closed');
  });
});
