import { describe, expect, it } from 'vitest';
import { defaultBreakerSettings, type BreakerSettings } from '../../src/core/breaker.js';
import { emptyOutcomeWindow, recordOutcome, tripOf, type OutcomeWindow } from '../../src/core/breaker-window.js';

const settings: BreakerSettings = { ...defaultBreakerSettings };

/** Outcomes as `[atMs, isFailure]`, recorded in order. */
function windowOf(outcomes: ReadonlyArray<readonly [number, boolean]>, custom: BreakerSettings = settings): OutcomeWindow {
  return outcomes.reduce((window, [at, isFailure]) => recordOutcome(window, isFailure, at, custom), emptyOutcomeWindow);
}

const failures = (count: number, everyMs = 1_000, from = 0): Array<readonly [number, boolean]> =>
  Array.from({ length: count }, (_, index) => [from + index * everyMs, true] as const);
const successes = (count: number, everyMs = 1_000, from = 0): Array<readonly [number, boolean]> =>
  Array.from({ length: count }, (_, index) => [from + index * everyMs, false] as const);

describe('tripOf', () => {
  const rateOnly: BreakerSettings = { ...settings, failureThreshold: 1_000 };
  const cases: Array<{ name: string; outcomes: Array<readonly [number, boolean]>; at: number; custom?: BreakerSettings; expected: ReturnType<typeof tripOf> }> = [
    { name: 'nothing recorded', outcomes: [], at: 0, expected: undefined },
    { name: 'successes only', outcomes: successes(50), at: 50_000, expected: undefined },
    { name: '4 failures in 60 s', outcomes: failures(4), at: 4_000, expected: undefined },
    { name: '5 failures in 60 s', outcomes: failures(5), at: 4_000, expected: { reason: 'failure_count', failures: 5, requests: 5 } },
    { name: '5 failures, but 20 s apart, so never 5 in one window', outcomes: failures(5, 20_000), at: 80_000, expected: undefined },
    { name: '5 failures once the oldest has left the window', outcomes: failures(5), at: 70_000, expected: undefined },
    {
      name: 'the count wins when both would trip (5 of 10)',
      outcomes: [...successes(5), ...failures(5, 1_000, 5_000)],
      at: 10_000,
      expected: { reason: 'failure_count', failures: 5, requests: 10 },
    },
    {
      name: '50 % of 10 requests trips the rate',
      outcomes: [...successes(5), ...failures(5, 1_000, 5_000)],
      at: 10_000,
      custom: rateOnly,
      expected: { reason: 'failure_rate', failures: 5, requests: 10 },
    },
    { name: '40 % of 10 requests does not', outcomes: [...successes(6), ...failures(4, 1_000, 6_000)], at: 10_000, custom: rateOnly, expected: undefined },
    { name: '5 of 9 is over 50 % but under the minimum volume', outcomes: [...successes(4), ...failures(5, 1_000, 4_000)], at: 9_000, custom: rateOnly, expected: undefined },
    {
      name: 'the rate counts only the window: old successes no longer dilute it',
      outcomes: [...successes(30, 1_000, 0), ...successes(5, 1_000, 100_000), ...failures(5, 1_000, 105_000)],
      at: 110_000,
      custom: rateOnly,
      expected: { reason: 'failure_rate', failures: 5, requests: 10 },
    },
  ];
  it.each(cases)('$name', ({ outcomes, at, custom, expected }) => {
    expect(tripOf(windowOf(outcomes, custom), at, custom ?? settings)).toEqual(expected);
  });

  it('is plain JSON', () => {
    const window = windowOf([...successes(3), ...failures(2, 1_000, 3_000)]);
    expect(JSON.parse(JSON.stringify(window))).toStrictEqual(window);
  });
});
