import { describe, expect, it } from 'vitest';
import { defaultHedgeSettings, hedgeDelayMs, shouldHedge, type HedgeMoment, type HedgeSettings } from '../../src/core/hedge.js';
import { emptyTargetStats, type TargetStats } from '../../src/core/target-stats.js';

const withSamples = (count: number): TargetStats => ({ ...emptyTargetStats, ttftSamples: Array.from({ length: count }, (_, index) => (index + 1) * 10) });

describe('hedgeDelayMs', () => {
  const on: HedgeSettings = { ...defaultHedgeSettings, isEnabled: true };
  const cases: Array<{ name: string; stats: TargetStats | undefined; settings: HedgeSettings; expected: number | undefined }> = [
    { name: 'disabled', stats: withSamples(100), settings: { ...defaultHedgeSettings, afterMs: 500 }, expected: undefined },
    { name: 'a fixed wait', stats: undefined, settings: { ...on, afterMs: 500 }, expected: 500 },
    { name: 'nothing to go by', stats: withSamples(100), settings: on, expected: undefined },
    { name: 'the p95 of 100 samples', stats: withSamples(100), settings: { ...on, percentile: 0.95 }, expected: 950 },
    { name: 'the p95 wins over the fixed wait once trusted', stats: withSamples(20), settings: { ...on, percentile: 0.95, afterMs: 5_000 }, expected: 190 },
    { name: 'too few samples fall back to the fixed wait', stats: withSamples(19), settings: { ...on, percentile: 0.95, afterMs: 5_000 }, expected: 5_000 },
    { name: 'too few samples and no fixed wait: no hedge', stats: withSamples(19), settings: { ...on, percentile: 0.95 }, expected: undefined },
    { name: 'no statistics fall back to the fixed wait', stats: undefined, settings: { ...on, percentile: 0.95, afterMs: 800 }, expected: 800 },
    { name: 'never sooner than the floor', stats: { ...emptyTargetStats, ttftSamples: Array(30).fill(3) as number[] }, settings: { ...on, percentile: 0.95 }, expected: 50 },
    { name: 'a fractional wait rounds up', stats: undefined, settings: { ...on, afterMs: 120.2 }, expected: 121 },
  ];
  it.each(cases)('$name', ({ stats, settings, expected }) => {
    expect(hedgeDelayMs(stats, settings)).toBe(expected);
  });
});

describe('shouldHedge', () => {
  const base: HedgeMoment = { hasFirstByte: false, hasNextTarget: true, remainingMs: 10_000, minAttemptMs: 50 };
  const cases: Array<{ name: string; moment: HedgeMoment; expected: boolean }> = [
    { name: 'silent first attempt, somewhere to go, time left', moment: base, expected: true },
    { name: 'the first byte came', moment: { ...base, hasFirstByte: true }, expected: false },
    { name: 'no other target', moment: { ...base, hasNextTarget: false }, expected: false },
    { name: 'too little time left', moment: { ...base, remainingMs: 49 }, expected: false },
  ];
  it.each(cases)('$name → $expected', ({ moment, expected }) => {
    expect(shouldHedge(moment)).toBe(expected);
  });
});
