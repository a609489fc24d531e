import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { defaultRetryBudgetSettings } from '../../src/core/retry-budget.js';
import { ClusterBudget } from '../../src/engine/cluster-budget.js';
import { MemoryStateSpace, MemoryStateStore } from '../../src/state/memory-store.js';

/** Two instances whose stores share one space, as two instances share one Redis. */
function twoInstances() {
  const clock = new ManualClock(1_000_000);
  const space = new MemoryStateSpace();
  const settings = { ...defaultRetryBudgetSettings, ratio: 0.2, minPerWindow: 2 };
  const a = new ClusterBudget('retry:chat', settings, clock, new MemoryStateStore({ clock, space }), 100);
  const b = new ClusterBudget('retry:chat', settings, clock, new MemoryStateStore({ clock, space }), 100);
  return { clock, a, b };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a retry budget shared by a cluster', () => {
  it('lets one instance spend what the whole cluster`s traffic earned', async () => {
    const { clock, a, b } = twoInstances();
    a.recordRequest();
    await settle();
    for (let i = 0; i < 99; i++) a.recordRequest();
    clock.advance(150);
    a.recordRequest(); // pushes the 99 unsynced requests
    await settle();
    b.recordRequest();
    await settle();
    // B served one request, but the cluster served 101: 20% of that is B's to spend too.
    expect(b.available()).toBe(20);
  });

  it('counts retries spent anywhere against everyone', async () => {
    const { clock, a, b } = twoInstances();
    for (let i = 0; i < 50; i++) a.recordRequest();
    await settle();
    clock.advance(150);
    for (let i = 0; i < 10; i++) expect(a.tryAcquire()).toBe(true);
    // A pushes what it counted at its next sync, a sync interval later.
    await settle();
    clock.advance(150);
    a.recordRequest();
    await settle();
    clock.advance(150);
    b.recordRequest();
    await settle();
    // 51 requests earn 10 retries, and A has spent all ten of them.
    expect(b.available()).toBe(0);
    expect(b.tryAcquire()).toBe(false);
  });

  it('falls back to its own counts when the shared totals are older than the window', async () => {
    const { clock, a } = twoInstances();
    for (let i = 0; i < 30; i++) a.recordRequest();
    await settle();
    clock.advance(2 * defaultRetryBudgetSettings.windowMs);
    // Nothing in the window any more, shared or local: only the floor remains.
    expect(a.available()).toBe(2);
  });
});
