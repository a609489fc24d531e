import { describe, expect, it } from 'vitest';
import {
  acquireProbe,
  breakerAdmission,
  closeBreaker,
  defaultBreakerSettings,
  initialBreakerState,
  isProbeHolder,
  openBreaker,
  settleProbe,
  transitionKind,
  type Admission,
  type BreakerSettings,
  type BreakerState,
  type OpenCause,
} from '../../src/core/breaker.js';

const settings: BreakerSettings = { ...defaultBreakerSettings };
const closed: BreakerState = { status: 'closed', since: 0 };
const open = (since: number, cooldownMs: number, until = since + cooldownMs): BreakerState => ({ status: 'open', since, until, cooldownMs, reason: 'failure_count' });
const halfOpen = (cooldownMs: number, probe: { holder: string; expiresAt: number } | null = null): BreakerState => ({
  status: 'half_open',
  since: 0,
  cooldownMs,
  reason: 'failure_count',
  probe,
});

describe('breakerAdmission', () => {
  const cases: Array<{ name: string; state: BreakerState; now: number; expected: Admission }> = [
    { name: 'closed passes', state: closed, now: 5, expected: 'pass' },
    { name: 'open skips during its cooldown', state: open(1_000, 30_000), now: 30_999, expected: 'skip' },
    { name: 'open may probe once its cooldown is over', state: open(1_000, 30_000), now: 31_000, expected: 'probe' },
    { name: 'half-open with a free probe may probe', state: halfOpen(30_000), now: 0, expected: 'probe' },
    { name: 'half-open with a probe out skips', state: halfOpen(30_000, { holder: 'a', expiresAt: 100 }), now: 99, expected: 'skip' },
    { name: 'half-open with an expired probe may probe again', state: halfOpen(30_000, { holder: 'a', expiresAt: 100 }), now: 100, expected: 'probe' },
  ];
  it.each(cases)('$name', ({ state, now, expected }) => {
    expect(breakerAdmission(state, now)).toBe(expected);
  });
});

describe('openBreaker: cooldowns', () => {
  const cases: Array<{ name: string; state: BreakerState; cause: OpenCause; now: number; settings?: BreakerSettings; until: number; cooldownMs: number }> = [
    { name: 'closed opens for open_ms', state: closed, cause: { reason: 'failure_count' }, now: 1_000, until: 31_000, cooldownMs: 30_000 },
    { name: 'a longer retry-after is honoured', state: closed, cause: { reason: 'failure_count', holdMs: 45_000 }, now: 1_000, until: 46_000, cooldownMs: 45_000 },
    { name: 'a shorter retry-after does not shorten open_ms', state: closed, cause: { reason: 'failure_rate', holdMs: 5_000 }, now: 1_000, until: 31_000, cooldownMs: 30_000 },
    { name: 'a huge retry-after is capped at max_open_ms', state: closed, cause: { reason: 'failure_count', holdMs: 86_400_000 }, now: 0, until: 300_000, cooldownMs: 300_000 },
    { name: 'a failed probe doubles the cooldown', state: halfOpen(30_000), cause: { reason: 'probe_failed' }, now: 50_000, until: 110_000, cooldownMs: 60_000 },
    { name: 'doubling stops at the cap', state: halfOpen(200_000), cause: { reason: 'probe_failed' }, now: 0, until: 300_000, cooldownMs: 300_000 },
    { name: 'at the cap it stays at the cap', state: halfOpen(300_000), cause: { reason: 'probe_failed' }, now: 0, until: 300_000, cooldownMs: 300_000 },
    { name: 'a failed probe with a longer retry-after takes it', state: halfOpen(30_000), cause: { reason: 'probe_failed', holdMs: 100_000 }, now: 0, until: 100_000, cooldownMs: 100_000 },
    {
      name: 'a lowered cap never shortens the cooldown in force',
      state: halfOpen(400_000),
      cause: { reason: 'probe_failed' },
      now: 0,
      until: 400_000,
      cooldownMs: 400_000,
    },
    {
      name: 'a repeat failure with a longer retry-after extends an open circuit',
      state: open(1_000, 30_000),
      cause: { reason: 'failure_count', holdMs: 60_000 },
      now: 5_000,
      until: 65_000,
      cooldownMs: 64_000,
    },
  ];
  it.each(cases)('$name', ({ state, cause, now, until, cooldownMs, settings: custom }) => {
    const next = openBreaker(state, cause, now, custom ?? settings);
    expect(next).toMatchObject({ status: 'open', since: state.status === 'open' ? state.since : now, until, cooldownMs, reason: cause.reason });
  });

  const unchanged: Array<{ name: string; cause: OpenCause; now: number }> = [
    { name: 'without a hold', cause: { reason: 'failure_count' }, now: 5_000 },
    { name: 'with a hold ending sooner', cause: { reason: 'failure_count', holdMs: 10_000 }, now: 5_000 },
    { name: 'with a hold ending at the same time', cause: { reason: 'failure_count', holdMs: 26_000 }, now: 5_000 },
  ];
  it.each(unchanged)('a repeat failure never shortens nor restarts an open cooldown ($name)', ({ cause, now }) => {
    const state = open(1_000, 30_000);
    expect(openBreaker(state, cause, now, settings)).toBe(state);
  });
});

describe('acquireProbe: exactly one probe', () => {
  it('takes the probe once the cooldown is over, and carries the cooldown into half-open', () => {
    const next = acquireProbe(open(0, 30_000), 'i1/r1', 30_000, settings);
    expect(next).toEqual({ status: 'half_open', since: 30_000, cooldownMs: 30_000, reason: 'failure_count', probe: { holder: 'i1/r1', expiresAt: 30_000 + settings.probeLeaseMs } });
    expect(isProbeHolder(next, 'i1/r1')).toBe(true);
  });

  const refused: Array<{ name: string; state: BreakerState; now: number }> = [
    { name: 'closed', state: closed, now: 0 },
    { name: 'open during its cooldown', state: open(0, 30_000), now: 29_999 },
    { name: 'half-open with a live probe', state: halfOpen(30_000, { holder: 'i1/r1', expiresAt: 1_000 }), now: 999 },
  ];
  it.each(refused)('refuses and returns the same state when $name', ({ state, now }) => {
    expect(acquireProbe(state, 'i2/r9', now, settings)).toBe(state);
  });

  it('lets one of many contenders through, however many try', () => {
    let state = open(0, 30_000);
    const winners: string[] = [];
    for (const holder of ['a', 'b', 'c', 'd', 'e']) {
      const next = acquireProbe(state, holder, 30_000, settings);
      if (next !== state && isProbeHolder(next, holder)) winners.push(holder);
      state = next;
    }
    expect(winners).toEqual(['a']);
  });

  it('hands the probe on when its holder never reported before the lease ran out', () => {
    const stuck = halfOpen(30_000, { holder: 'dead', expiresAt: 1_000 });
    const next = acquireProbe(stuck, 'alive', 1_000, settings);
    expect(isProbeHolder(next, 'alive')).toBe(true);
    expect(isProbeHolder(next, 'dead')).toBe(false);
  });
});

describe('settleProbe', () => {
  const probing = halfOpen(30_000, { holder: 'me', expiresAt: 200_000 });
  const freed = halfOpen(30_000);
  const cases: Array<{ name: string; holder: string; verdict: 'success' | 'failure' | 'neutral'; holdMs?: number; expected: BreakerState | 'same' }> = [
    { name: 'success closes', holder: 'me', verdict: 'success', expected: { status: 'closed', since: 100_000 } },
    { name: 'failure reopens with a doubled cooldown', holder: 'me', verdict: 'failure', expected: { status: 'open', since: 100_000, until: 160_000, cooldownMs: 60_000, reason: 'probe_failed', probedAt: 0 } },
    {
      name: 'failure with a longer retry-after reopens for that long',
      holder: 'me',
      verdict: 'failure',
      holdMs: 90_000,
      expected: { status: 'open', since: 100_000, until: 190_000, cooldownMs: 90_000, reason: 'probe_failed', probedAt: 0 },
    },
    { name: 'neutral frees the probe for another request', holder: 'me', verdict: 'neutral', expected: freed },
    { name: 'another request’s success is ignored', holder: 'other', verdict: 'success', expected: 'same' },
    { name: 'another request’s failure is ignored', holder: 'other', verdict: 'failure', expected: 'same' },
  ];
  it.each(cases)('$name', ({ holder, verdict, holdMs, expected }) => {
    const next = settleProbe(probing, holder, verdict, 100_000, settings, holdMs);
    if (expected === 'same') expect(next).toBe(probing);
    else expect(next).toEqual(expected);
  });

  it.each([closed, open(0, 30_000)])('ignores a verdict when not half-open (%o)', (state) => {
    expect(settleProbe(state, 'me', 'success', 1, settings)).toBe(state);
  });
});

describe('a breaker’s life', () => {
  it('doubles on each failed probe up to the cap, and starts again at open_ms after closing', () => {
    const cooldowns: number[] = [];
    let now = 0;
    let state = openBreaker(initialBreakerState, { reason: 'failure_count' }, now, settings);
    for (let round = 0; round < 6; round++) {
      if (state.status !== 'open') throw new Error('expected open');
      cooldowns.push(state.cooldownMs);
      now = state.until;
      state = acquireProbe(state, `probe-${round}`, now, settings);
      state = settleProbe(state, `probe-${round}`, 'failure', now + 10, settings);
    }
    expect(cooldowns).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
    if (state.status !== 'open') throw new Error('expected open');
    now = state.until;
    state = settleProbe(acquireProbe(state, 'last', now, settings), 'last', 'success', now + 10, settings);
    expect(state).toEqual({ status: 'closed', since: now + 10 });
    expect(openBreaker(state, { reason: 'failure_count' }, now + 20, settings)).toMatchObject({ cooldownMs: 30_000 });
  });
});

describe('closeBreaker and transitionKind', () => {
  it('closes from any state and leaves a closed one alone', () => {
    expect(closeBreaker(open(0, 30_000), 5)).toEqual({ status: 'closed', since: 5 });
    expect(closeBreaker(halfOpen(30_000), 5)).toEqual({ status: 'closed', since: 5 });
    expect(closeBreaker(closed, 5)).toBe(closed);
  });

  const cases: Array<{ previous: BreakerState; next: BreakerState; expected: ReturnType<typeof transitionKind> }> = [
    { previous: closed, next: open(0, 1), expected: 'opened' },
    { previous: halfOpen(1), next: open(0, 1), expected: 'opened' },
    { previous: open(0, 1), next: halfOpen(1), expected: 'half_opened' },
    { previous: halfOpen(1), next: closed, expected: 'closed' },
    { previous: open(0, 1), next: closed, expected: 'closed' },
    { previous: open(0, 1), next: open(0, 2), expected: undefined },
    { previous: halfOpen(1), next: halfOpen(1, { holder: 'x', expiresAt: 1 }), expected: undefined },
  ];
  it.each(cases)('$previous.status → $next.status is $expected', ({ previous, next, expected }) => {
    expect(transitionKind(previous, next)).toBe(expected);
  });
});

describe('state is plain JSON', () => {
  it.each([closed, open(0, 30_000), halfOpen(30_000, { holder: 'x', expiresAt: 9 }), halfOpen(30_000)])('%o survives a JSON round trip', (state) => {
    expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
  });
});
