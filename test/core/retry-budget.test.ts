import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { defaultRetryBudgetSettings, RetryBudget } from '../../src/core/retry-budget.js';

type Step = { at: number; requests?: number; retries?: number };

/** Replays steps and returns how many retries each step was granted. */
function replay(steps: Step[]): number[] {
  const clock = new ManualClock();
  const budget = new RetryBudget(defaultRetryBudgetSettings, clock);
  return steps.map((step) => {
    clock.set(step.at);
    for (let index = 0; index < (step.requests ?? 0); index++) budget.recordRequest();
    let granted = 0;
    for (let index = 0; index < (step.retries ?? 0); index++) if (budget.tryAcquire()) granted++;
    return granted;
  });
}

describe('RetryBudget (20 %, floor 10 per 10 s)', () => {
  const cases: Array<{ name: string; steps: Step[]; granted: number[] }> = [
    { name: 'a quiet route still gets the floor', steps: [{ at: 0, requests: 1, retries: 15 }], granted: [10] },
    { name: 'no request at all still gets the floor', steps: [{ at: 0, retries: 11 }], granted: [10] },
    { name: '100 requests allow 20 retries', steps: [{ at: 0, requests: 100, retries: 30 }], granted: [20] },
    { name: '1 000 requests allow 200 retries', steps: [{ at: 0, requests: 1_000, retries: 500 }], granted: [200] },
    { name: '49 requests still only the floor', steps: [{ at: 0, requests: 49, retries: 30 }], granted: [10] },
    {
      name: 'spent retries come back once they leave the window',
      steps: [
        { at: 0, retries: 10 },
        { at: 5_000, retries: 5 },
        { at: 11_000, retries: 15 },
      ],
      granted: [10, 0, 10],
    },
    {
      name: 'requests that leave the window take their allowance with them',
      steps: [
        { at: 0, requests: 200 },
        { at: 9_000, retries: 20 },
        { at: 10_500, retries: 30 },
        { at: 11_000, retries: 5 },
      ],
      // 200 requests allow 40; once they leave the window only the floor of 10 is left, and 40 are spent.
      granted: [0, 20, 20, 0],
    },
    {
      name: 'a broad outage cannot multiply traffic: retries stay at a fifth of requests',
      steps: Array.from({ length: 10 }, (_, index) => ({ at: index * 1_000, requests: 100, retries: 100 })),
      granted: [20, 20, 20, 20, 20, 20, 20, 20, 20, 20],
    },
  ];
  it.each(cases)('$name', ({ steps, granted }) => {
    expect(replay(steps)).toEqual(granted);
  });

  it('reports what is available', () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0.5, minPerWindow: 2, windowMs: 1_000, bucketCount: 10 }, clock);
    expect(budget.available()).toBe(2);
    for (let index = 0; index < 10; index++) budget.recordRequest();
    expect(budget.available()).toBe(5);
    budget.tryAcquire();
    expect(budget.available()).toBe(4);
  });
});
