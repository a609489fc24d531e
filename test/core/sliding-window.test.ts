import { describe, expect, it } from 'vitest';
import { addToWindow, bucketLengthMs, emptyWindow, pruneWindow, SlidingWindowCounter, windowTotal, type WindowSpec } from '../../src/core/sliding-window.js';

const spec: WindowSpec = { windowMs: 10_000, bucketCount: 10 };

describe('sliding window', () => {
  const cases: Array<{ name: string; adds: number[]; at: number; expected: number }> = [
    { name: 'empty', adds: [], at: 0, expected: 0 },
    { name: 'all inside', adds: [0, 1_500, 9_999], at: 9_999, expected: 3 },
    { name: 'remembers at least the whole window', adds: [0], at: 10_999, expected: 1 },
    { name: 'forgets after one bucket more', adds: [0], at: 11_000, expected: 0 },
    { name: 'drops only what expired', adds: [0, 5_000, 12_000], at: 14_000, expected: 2 },
  ];
  it.each(cases)('$name', ({ adds, at, expected }) => {
    const state = adds.reduce((window, time) => addToWindow(window, spec, time), emptyWindow);
    expect(windowTotal(state, spec, at)).toBe(expected);
  });

  it('keeps at most one bucket per bucket length, plus the current one', () => {
    let state = emptyWindow;
    for (let time = 0; time < 100_000; time += 100) state = addToWindow(state, spec, time);
    expect(state.length).toBeLessThanOrEqual(spec.bucketCount + 1);
    expect(windowTotal(state, spec, 99_900)).toBe(110);
  });

  it('counts into the newest bucket when the clock steps back', () => {
    const state = addToWindow(addToWindow(emptyWindow, spec, 5_000), spec, 3_000, 2);
    expect(state).toEqual([{ start: 5_000, count: 3 }]);
  });

  it('returns the same array when nothing expired', () => {
    const state = addToWindow(emptyWindow, spec, 0);
    expect(pruneWindow(state, spec, 500)).toBe(state);
  });

  it('sizes buckets from the window', () => {
    expect(bucketLengthMs({ windowMs: 60_000, bucketCount: 12 })).toBe(5_000);
    expect(bucketLengthMs({ windowMs: 5, bucketCount: 10 })).toBe(1);
  });

  it('has a mutable counter form', () => {
    const counter = new SlidingWindowCounter(spec);
    expect(counter.add(0, 3)).toBe(3);
    expect(counter.add(4_000)).toBe(4);
    expect(counter.total(10_500)).toBe(4);
    expect(counter.total(11_000)).toBe(1);
    expect(counter.total(20_000)).toBe(0);
  });
});
