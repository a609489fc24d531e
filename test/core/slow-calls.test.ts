import { describe, expect, it } from 'vitest';
import { defaultSlowCallSettings, isSlowSuccess, slowCalls, slowLimitMs, type CallWait } from '../../src/core/slow-calls.js';
import { emptyTargetStats, recordAttempt, recordStreamGap, defaultStatsSettings, type TargetStats } from '../../src/core/target-stats.js';
import { SlowCallWatch, type WatchedCall } from '../../src/engine/slow-call-watch.js';
import { ManualTimers } from '../helpers/manual-timers.js';

/** A target whose streams' first tokens took 100..1000 ms, whole answers 200..2000 ms and pauses 10..100 ms. */
function usual(): TargetStats {
  let stats = emptyTargetStats;
  for (let i = 1; i <= 10; i++) {
    for (let k = 0; k < 3; k++) {
      stats = recordAttempt(stats, { outcome: 'success', durationMs: i * 100, ttftMs: i * 100, now: 0 }, defaultStatsSettings);
      stats = recordAttempt(stats, { outcome: 'success', durationMs: i * 200, isWholeAnswer: true, now: 0 }, defaultStatsSettings);
      stats = recordStreamGap(stats, i * 10, defaultStatsSettings);
    }
  }
  return stats;
}

const wait = (kind: CallWait['kind'], waitedMs: number, timeoutMs = 30_000): CallWait => ({ kind, waitedMs, timeoutMs });

describe('slow-call limits', () => {
  const settings = defaultSlowCallSettings;

  it('are the factor times the recent p95 of the same kind of wait, never below the floor', () => {
    const stats = usual();
    expect(slowLimitMs(stats, 'first_token', settings)).toBe(4_000);
    expect(slowLimitMs(stats, 'answer', settings)).toBe(8_000);
    // 4 × 100 ms of pause is far below the 2 s floor.
    expect(slowLimitMs(stats, 'next_event', settings)).toBe(2_000);
  });

  it('are unknown before enough successes, so nothing is judged on a guess', () => {
    let stats = emptyTargetStats;
    for (let i = 0; i < 19; i++) stats = recordAttempt(stats, { outcome: 'success', durationMs: 100, ttftMs: 100, now: 0 }, defaultStatsSettings);
    expect(slowLimitMs(stats, 'first_token', settings)).toBeUndefined();
    expect(slowCalls(stats, [wait('first_token', 60_000), wait('first_token', 60_000), wait('first_token', 60_000)], settings)).toEqual([]);
  });

  it('learn only from successes: failed calls do not move the norm', () => {
    let stats = usual();
    for (let i = 0; i < 50; i++) stats = recordAttempt(stats, { outcome: 'failure', durationMs: 20_000, isWholeAnswer: true, isTimeout: true, now: 0 }, defaultStatsSettings);
    expect(slowLimitMs(stats, 'answer', settings)).toBe(8_000);
  });
});

describe('slowCalls', () => {
  const stats = usual();
  const settings = defaultSlowCallSettings;

  it('one long call is only a long answer: it takes three at once', () => {
    expect(slowCalls(stats, [wait('first_token', 9_000), wait('first_token', 100), wait('answer', 300)], settings)).toEqual([]);
    expect(slowCalls(stats, [wait('first_token', 9_000), wait('first_token', 5_000), wait('answer', 300)], settings)).toEqual([]);
  });

  it('three calls past their limits, of any kind, are all moved on; the healthy ones are left', () => {
    const waits = [wait('first_token', 4_500), wait('answer', 500), wait('answer', 9_000), wait('next_event', 2_500), wait('next_event', 50)];
    expect(slowCalls(stats, waits, settings)).toEqual([0, 2, 3]);
  });

  it('leaves a wait its own timeout ends sooner than the limit would', () => {
    // A 3 s first-token timeout is under the 4 s limit: the timeout is the tighter bound.
    expect(slowCalls(stats, [wait('first_token', 4_500, 3_000), wait('first_token', 4_500, 3_000), wait('first_token', 4_500, 3_000)], settings)).toEqual([]);
  });

  it('is off with minCalls 0', () => {
    const waits = [wait('answer', 60_000), wait('answer', 60_000), wait('answer', 60_000)];
    expect(slowCalls(stats, waits, { ...settings, minCalls: 0 })).toEqual([]);
    expect(isSlowSuccess(stats, 'answer', 60_000, { ...settings, minCalls: 0 })).toBe(false);
  });

  it('judges a finished call against the same limit', () => {
    expect(isSlowSuccess(stats, 'answer', 8_001, settings)).toBe(true);
    expect(isSlowSuccess(stats, 'answer', 7_999, settings)).toBe(false);
  });
});

describe('SlowCallWatch', () => {
  /** A call that started at `startedAt` and waits for its first token until cut. */
  function call(timers: ManualTimers, startedAt: number, canMoveOn = true) {
    const state = { cut: undefined as string | undefined };
    const watched: WatchedCall = {
      wait: (now) => (state.cut ? undefined : { kind: 'first_token', waitedMs: now - startedAt, timeoutMs: 30_000 }),
      canMoveOn: () => canMoveOn,
      cut: (w, limitMs, others) => {
        state.cut = `${w.kind} ${w.waitedMs} > ${limitMs}, ${others} others at ${timers.clock.now()}`;
      },
    };
    return { watched, state };
  }

  function watch(timers: ManualTimers, slow: string[]) {
    const stats = usual();
    return new SlowCallWatch({ clock: timers.clock, timers, settingsFor: () => defaultSlowCallSettings, statsOf: () => stats, onSlow: (id, moved) => slow.push(`${id} ${moved.map((entry) => `${entry.wait.kind}>${entry.limitMs}`).join(',')}`) });
  }

  it('moves three slow calls on at the first look past their limit, opens the circuit once, and stops looking when none are left', () => {
    const timers = new ManualTimers();
    const slow: string[] = [];
    const subject = watch(timers, slow);
    const calls = [call(timers, 0), call(timers, 100), call(timers, 200)];
    const removers = calls.map((c) => subject.add('primary', c.watched));
    timers.advance(4_000);
    expect(calls.map((c) => c.state.cut)).toEqual([undefined, undefined, undefined]);
    // The youngest passes 4 s at 4.2 s; the watch looks every 250 ms.
    timers.advance(250);
    expect(calls.map((c) => c.state.cut)).toEqual(['first_token 4250 > 4000, 2 others at 4250', 'first_token 4150 > 4000, 2 others at 4250', 'first_token 4050 > 4000, 2 others at 4250']);
    expect(slow).toEqual(['primary first_token>4000,first_token>4000,first_token>4000']);
    removers.forEach((remove) => remove());
    timers.advance(1_000);
    expect(timers.size).toBe(0);
  });

  it('moves a call left in flight by the verdict once it passes its own limit, without a second verdict', () => {
    const timers = new ManualTimers();
    const slow: string[] = [];
    const subject = watch(timers, slow);
    // Three at once, and a fourth that started 300 ms later: at the verdict it has not waited 4 s yet.
    const calls = [call(timers, 0), call(timers, 0), call(timers, 0), call(timers, 300)];
    for (const c of calls) subject.add('primary', c.watched);
    timers.advance(4_250);
    expect(calls.map((c) => c.state.cut)).toEqual(['first_token 4250 > 4000, 2 others at 4250', 'first_token 4250 > 4000, 2 others at 4250', 'first_token 4250 > 4000, 2 others at 4250', undefined]);
    // Alone now, it is too few to judge the target again, and it needs no judging: it moves at the first look past 4 s.
    timers.advance(250);
    expect(calls[3]?.state.cut).toBe('first_token 4200 > 4000, 3 others at 4500');
    // Reported as moved like the others (counted; the circuit is already open, so it stays as it is).
    expect(slow).toEqual(['primary first_token>4000,first_token>4000,first_token>4000', 'primary first_token>4000']);
    subject.dispose();
  });

  it('lets a late call go once its first token came, and never marks a stream that was flowing: a later pause is judged anew', () => {
    const timers = new ManualTimers();
    const slow: string[] = [];
    const subject = watch(timers, slow);
    /** Waits for its first token from `startedAt` until `firstTokenAt`, then streams with a 2.5 s pause from 20 s on. */
    const streaming = (startedAt: number, firstTokenAt: number) => {
      const state = { cut: undefined as string | undefined };
      const watched: WatchedCall = {
        wait: (now) => {
          if (state.cut) return undefined;
          if (now < firstTokenAt) return { kind: 'first_token', waitedMs: now - startedAt, timeoutMs: 30_000 };
          return { kind: 'next_event', waitedMs: now < 20_000 ? 50 : now - 20_000, timeoutMs: 30_000 };
        },
        canMoveOn: () => true,
        cut: (w, limitMs, others) => {
          state.cut = `${w.kind} ${w.waitedMs} > ${limitMs}, ${others} others at ${timers.clock.now()}`;
        },
      };
      return { watched, state };
    };
    const stuck = [call(timers, 0), call(timers, 0), call(timers, 0)];
    const late = streaming(300, 4_400);
    const flowing = streaming(0, 500);
    for (const c of [...stuck, late, flowing]) subject.add('primary', c.watched);
    timers.advance(4_250);
    expect(stuck.every((c) => c.state.cut !== undefined)).toBe(true);
    // The late call's first token came at 4.4 s, under its limit; both streams then pause for 2.5 s at 20 s, past the 2 s limit of a pause, but alone.
    timers.advance(20_000);
    expect([late.state.cut, flowing.state.cut]).toEqual([undefined, undefined]);
    expect(slow).toHaveLength(1);
    subject.dispose();
  });

  it('moves nothing once detection is off, marked calls included', () => {
    const timers = new ManualTimers();
    const slow: string[] = [];
    let minCalls = defaultSlowCallSettings.minCalls;
    const stats = usual();
    const subject = new SlowCallWatch({ clock: timers.clock, timers, settingsFor: () => ({ ...defaultSlowCallSettings, minCalls }), statsOf: () => stats, onSlow: (id) => slow.push(id) });
    const calls = [call(timers, 0), call(timers, 0), call(timers, 0), call(timers, 300)];
    for (const c of calls) subject.add('primary', c.watched);
    timers.advance(4_250);
    expect(calls.map((c) => c.state.cut !== undefined)).toEqual([true, true, true, false]);
    // A reload turns detection off before the fourth passes its limit.
    minCalls = 0;
    timers.advance(1_000);
    expect(calls[3]?.state.cut).toBeUndefined();
    expect(slow).toEqual(['primary']);
    subject.dispose();
  });

  it('leaves calls that have nowhere to go, and then does not open the circuit', () => {
    const timers = new ManualTimers();
    const slow: string[] = [];
    const subject = watch(timers, slow);
    const calls = [call(timers, 0, false), call(timers, 0, false), call(timers, 0, false)];
    for (const c of calls) subject.add('primary', c.watched);
    timers.advance(10_000);
    expect(calls.map((c) => c.state.cut)).toEqual([undefined, undefined, undefined]);
    expect(slow).toEqual([]);
    subject.dispose();
  });

  it('judges each target on its own calls', () => {
    const timers = new ManualTimers();
    const slow: string[] = [];
    const subject = watch(timers, slow);
    const spread = [call(timers, 0), call(timers, 0), call(timers, 0)];
    subject.add('a', spread[0]!.watched);
    subject.add('b', spread[1]!.watched);
    subject.add('c', spread[2]!.watched);
    timers.advance(10_000);
    expect(spread.map((c) => c.state.cut)).toEqual([undefined, undefined, undefined]);
    subject.dispose();
  });
});
