import { describe, expect, it } from 'vitest';
import {
  acquireRecoveryProbe,
  breakerAdmission,
  coolDown,
  defaultBreakerSettings,
  isProbeHolder,
  openBreaker,
  recoveryProbeAt,
  settleProbe,
  type BreakerState,
} from '../../src/core/breaker.js';
import { ManualClock } from '../../src/core/clock.js';
import { recoveryStep, recoveryWaitUntil, type RecoveryStep } from '../../src/core/recovery.js';

const settings = { ...defaultBreakerSettings, openMs: 30_000, maxOpenMs: 300_000, recoveryProbeMs: 1_000 };
const opened = (now: number): BreakerState => openBreaker({ status: 'closed', since: 0 }, { reason: 'failure_count' }, now, settings);

describe('recovery probes while every target is down', () => {
  it('an open circuit lets one probe through every recoveryProbeMs, whatever its 30 s cooldown', () => {
    const clock = new ManualClock(10_000);
    let state = opened(clock.now());
    const probes: number[] = [];
    // Ten seconds of a route that stays down, looked at every 100 ms by waiting requests.
    for (let tick = 0; tick < 100; tick++) {
      clock.advance(100);
      const holder = `request-${tick}`;
      const taken = acquireRecoveryProbe(state, holder, clock.now(), settings);
      if (isProbeHolder(taken, holder)) {
        probes.push(clock.now() - 10_000);
        // While one probe is out no other may go; then it fails (a refused connection, at once).
        expect(acquireRecoveryProbe(taken, 'someone-else', clock.now(), settings)).toBe(taken);
        state = settleProbe(taken, holder, 'failure', clock.now(), settings, undefined, { isDoubling: false });
      } else {
        expect(breakerAdmission(state, clock.now())).toBe('skip');
      }
    }
    expect(probes).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000]);
    // No doubling while the route was down: the cooldown is still the first one.
    expect(state.status === 'open' && state.cooldownMs).toBe(30_000);
  });

  it('the first successful probe closes the circuit', () => {
    const state = opened(0);
    const taken = acquireRecoveryProbe(state, 'r1', 1_000, settings);
    expect(settleProbe(taken, 'r1', 'success', 1_200, settings)).toEqual({ status: 'closed', since: 1_200 });
  });

  it('a slow probe paces the next from its own start, and a hung one holds the circuit until its lease runs out', () => {
    const taken = acquireRecoveryProbe(opened(0), 'r1', 1_000, settings);
    expect(acquireRecoveryProbe(taken, 'r2', 1_000 + settings.probeLeaseMs - 1, settings)).toBe(taken);
    const failedLate = settleProbe(taken, 'r1', 'failure', 1_800, settings, undefined, { isDoubling: false });
    expect(recoveryProbeAt(failedLate, settings)).toBe(2_000);
  });

  it('a rate-limited circuit is not probed before its retry-after is over', () => {
    const cooled = coolDown({ status: 'closed', since: 0 }, 20_000, 0, settings);
    expect(cooled).toMatchObject({ status: 'open', until: 20_000, cooldownMs: 20_000, reason: 'rate_limited' });
    expect(recoveryProbeAt(cooled, settings)).toBe(20_000);
    expect(acquireRecoveryProbe(cooled, 'r1', 19_999, settings)).toBe(cooled);
    expect(isProbeHolder(acquireRecoveryProbe(cooled, 'r1', 20_000, settings), 'r1')).toBe(true);
  });
});

describe('cooldown doubling only while another target serves', () => {
  const cases: Array<{ name: string; isDoubling: boolean; expected: number }> = [
    { name: 'a backup serves: the dead primary needs no fast probing, its cooldown doubles', isDoubling: true, expected: 60_000 },
    { name: 'the whole route is down: the cooldown stays, so recovery is noticed at once', isDoubling: false, expected: 30_000 },
  ];
  it.each(cases)('$name', ({ isDoubling, expected }) => {
    const probing = acquireRecoveryProbe(opened(0), 'r1', 30_000, settings);
    const next = settleProbe(probing, 'r1', 'failure', 30_100, settings, undefined, { isDoubling });
    expect(next).toMatchObject({ status: 'open', cooldownMs: expected, until: 30_100 + expected });
  });

  it('a 429 on a probe reopens for exactly its retry-after, never doubled', () => {
    const probing = acquireRecoveryProbe(opened(0), 'r1', 30_000, settings);
    expect(settleProbe(probing, 'r1', 'failure', 30_000, settings, 2_000, { isDoubling: true, isRateLimited: true })).toMatchObject({
      status: 'open',
      reason: 'rate_limited',
      cooldownMs: 2_000,
      until: 32_000,
    });
  });
});

describe('recoveryStep', () => {
  const cases: Array<{ name: string; now: number; waitUntil: number; nextProbeAt: number | undefined; expected: RecoveryStep }> = [
    { name: 'a probe is due: take it', now: 5_000, waitUntil: 10_000, nextProbeAt: 5_000, expected: { step: 'probe' } },
    { name: 'the next probe is later: sleep until then', now: 5_000, waitUntil: 10_000, nextProbeAt: 5_400, expected: { step: 'wait', ms: 400 } },
    { name: 'no probe can come: sleep until the wait ends (a circuit change wakes sooner)', now: 5_000, waitUntil: 10_000, nextProbeAt: undefined, expected: { step: 'wait', ms: 5_000 } },
    { name: 'a probe due after the wait ends: sleep only until the end', now: 9_500, waitUntil: 10_000, nextProbeAt: 20_000, expected: { step: 'wait', ms: 500 } },
    { name: 'the wait is over: give up', now: 10_000, waitUntil: 10_000, nextProbeAt: 10_000, expected: { step: 'give_up' } },
  ];
  it.each(cases)('$name', ({ now, waitUntil, nextProbeAt, expected }) => {
    expect(recoveryStep({ now, waitUntil, nextProbeAt })).toEqual(expected);
  });

  it('waits for the sooner of wait_for_recovery_ms and the deadline (less one attempt)', () => {
    expect(recoveryWaitUntil(1_000, 10_000, 900_000, 50)).toBe(11_000);
    expect(recoveryWaitUntil(1_000, 10_000, 6_000, 50)).toBe(5_950);
    expect(recoveryWaitUntil(1_000, 0, 900_000, 50)).toBe(1_000);
  });
});
