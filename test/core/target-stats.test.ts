import { describe, expect, it } from 'vitest';
import {
  attemptEnded,
  attemptStarted,
  currentPenalty,
  defaultStatsSettings,
  emptyTargetStats,
  recordAttempt,
  ttftPercentile,
  type AttemptSample,
  type TargetStats,
} from '../../src/core/target-stats.js';

const settings = { ...defaultStatsSettings, latencyAlpha: 0.5, successAlpha: 0.5 };
const replay = (samples: AttemptSample[], from: TargetStats = emptyTargetStats): TargetStats =>
  samples.reduce((stats, sample) => recordAttempt(stats, sample, settings), from);

describe('recordAttempt', () => {
  const cases: Array<{ name: string; samples: AttemptSample[]; expected: Partial<TargetStats> }> = [
    { name: 'the first latency sample is taken as it is', samples: [{ outcome: 'success', durationMs: 400, now: 0 }], expected: { latencyMs: 400, successRate: 1, outcomes: 1 } },
    {
      name: 'later samples are smoothed',
      samples: [
        { outcome: 'success', durationMs: 400, now: 0 },
        { outcome: 'success', durationMs: 200, now: 1 },
      ],
      expected: { latencyMs: 300 },
    },
    { name: 'a fast failure does not make the target look fast', samples: [{ outcome: 'success', durationMs: 400, now: 0 }, { outcome: 'failure', durationMs: 5, now: 1 }], expected: { latencyMs: 400, successRate: 0.5 } },
    {
      name: 'a timeout counts its duration as latency',
      samples: [
        { outcome: 'success', durationMs: 400, now: 0 },
        { outcome: 'failure', durationMs: 2_000, isTimeout: true, now: 1 },
      ],
      expected: { latencyMs: 1_200 },
    },
    { name: 'a neutral outcome changes nothing', samples: [{ outcome: 'neutral', durationMs: 9, now: 0 }], expected: { ...emptyTargetStats } },
    {
      name: 'time to first token is smoothed and sampled',
      samples: [
        { outcome: 'success', durationMs: 100, ttftMs: 100, now: 0 },
        { outcome: 'success', durationMs: 300, ttftMs: 300, now: 1 },
      ],
      expected: { ttftMs: 200, ttftSamples: [100, 300] },
    },
    { name: 'a failure adds one halving of penalty', samples: [{ outcome: 'failure', durationMs: 1, now: 5_000 }], expected: { penalty: 1, penaltyAt: 5_000 } },
  ];
  it.each(cases)('$name', ({ samples, expected }) => {
    expect(replay(samples)).toMatchObject(expected);
  });

  it('keeps only the most recent time-to-first-token samples', () => {
    const stats = replay(Array.from({ length: 60 }, (_, index) => ({ outcome: 'success' as const, durationMs: index, ttftMs: index, now: index })));
    expect(stats.ttftSamples).toHaveLength(settings.ttftSampleSize);
    expect(stats.ttftSamples[0]).toBe(10);
  });
});

describe('currentPenalty', () => {
  const penalized = replay([
    { outcome: 'failure', durationMs: 1, now: 0 },
    { outcome: 'failure', durationMs: 1, now: 0 },
  ]);
  const cases = [
    { at: 0, expected: 2 },
    { at: 30_000, expected: 1 },
    { at: 60_000, expected: 0.5 },
    { at: 300_000, expected: 2 / 1024 },
  ];
  it.each(cases)('two failures at 0 weigh $expected halvings at $at ms (half-life 30 s)', ({ at, expected }) => {
    expect(currentPenalty(penalized, at, settings)).toBeCloseTo(expected, 10);
  });

  it('adds a new failure to what is left of the old ones', () => {
    const later = recordAttempt(penalized, { outcome: 'failure', durationMs: 1, now: 30_000 }, settings);
    expect(later.penalty).toBeCloseTo(2, 10);
  });
});

describe('in flight', () => {
  it('counts up and down and never below zero', () => {
    let stats = attemptStarted(attemptStarted(emptyTargetStats));
    expect(stats.inFlight).toBe(2);
    stats = attemptEnded(attemptEnded(attemptEnded(stats)));
    expect(stats.inFlight).toBe(0);
  });
});

describe('ttftPercentile', () => {
  const stats: TargetStats = { ...emptyTargetStats, ttftSamples: Array.from({ length: 20 }, (_, index) => (index + 1) * 10) };
  it.each([
    { quantile: 0.95, minSamples: 1, expected: 190 },
    { quantile: 0.5, minSamples: 1, expected: 100 },
    { quantile: 1, minSamples: 1, expected: 200 },
    { quantile: 0.95, minSamples: 21, expected: undefined },
  ])('p$quantile with at least $minSamples samples is $expected', ({ quantile, minSamples, expected }) => {
    expect(ttftPercentile(stats, quantile, minSamples)).toBe(expected);
  });

  it('is undefined without samples', () => {
    expect(ttftPercentile(emptyTargetStats, 0.95)).toBeUndefined();
  });

  it('leaves the samples in their order', () => {
    const unordered: TargetStats = { ...emptyTargetStats, ttftSamples: [30, 10, 20] };
    expect(ttftPercentile(unordered, 0.5)).toBe(20);
    expect(unordered.ttftSamples).toEqual([30, 10, 20]);
  });
});
