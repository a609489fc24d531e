import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/clock.js';
import {
  defaultHealthSettings,
  firstCheckDelayMs,
  initialHealthState,
  nextCheckAt,
  recordHealthCheck,
  type HealthState,
  type HealthStatus,
} from '../../src/core/health.js';

const settings = { ...defaultHealthSettings };

describe('recordHealthCheck', () => {
  const cases: Array<{ name: string; results: boolean[]; statuses: HealthStatus[] }> = [
    { name: 'a first pass makes an unknown target healthy', results: [true], statuses: ['healthy'] },
    { name: 'one failure is not enough', results: [true, false], statuses: ['healthy', 'healthy'] },
    { name: 'two failures in a row make it unhealthy', results: [true, false, false], statuses: ['healthy', 'healthy', 'unhealthy'] },
    { name: 'failures that are not in a row do not', results: [true, false, true, false, true], statuses: ['healthy', 'healthy', 'healthy', 'healthy', 'healthy'] },
    { name: 'an unknown target that never passes turns unhealthy', results: [false, false], statuses: ['unknown', 'unhealthy'] },
    { name: 'recovery takes two passes in a row', results: [false, false, true, false, true, true], statuses: ['unknown', 'unhealthy', 'unhealthy', 'unhealthy', 'unhealthy', 'healthy'] },
  ];
  it.each(cases)('$name', ({ results, statuses }) => {
    const seen: HealthStatus[] = [];
    results.reduce((state, isHealthy, index) => {
      const next = recordHealthCheck(state, { isHealthy, error: isHealthy ? undefined : 'HTTP 503' }, index * 1_000, settings);
      seen.push(next.status);
      return next;
    }, initialHealthState);
    expect(seen).toEqual(statuses);
  });

  it('keeps when the status changed, the last check and the last error', () => {
    let state: HealthState = initialHealthState;
    state = recordHealthCheck(state, { isHealthy: true }, 1_000, settings);
    state = recordHealthCheck(state, { isHealthy: false, error: 'HTTP 503' }, 2_000, settings);
    state = recordHealthCheck(state, { isHealthy: false, error: 'timeout' }, 3_000, settings);
    expect(state).toEqual({ status: 'unhealthy', consecutiveSuccesses: 0, consecutiveFailures: 2, checkedAt: 3_000, changedAt: 3_000, lastError: 'timeout' });
    expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
  });
});

describe('check scheduling', () => {
  it('spreads the next check within ±10 % of the interval', () => {
    const random = seededRandom(11);
    const healthy: HealthState = { ...initialHealthState, status: 'healthy' };
    const delays = Array.from({ length: 1_000 }, () => nextCheckAt(50_000, healthy, settings, random) - 50_000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(27_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(33_000);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(5_000);
  });

  it.each([
    { status: 'healthy' as const, random: 0.5, expected: 30_000 },
    { status: 'unknown' as const, random: 0, expected: 27_000 },
    { status: 'unhealthy' as const, random: 0.5, expected: 10_000 },
    { status: 'unhealthy' as const, random: 0.999_999, expected: 11_000 },
  ])('checks a $status target after its interval (random $random → $expected ms)', ({ status, random, expected }) => {
    expect(nextCheckAt(0, { ...initialHealthState, status }, settings, () => random)).toBe(expected);
  });

  it('spreads first checks over one interval', () => {
    const random = seededRandom(3);
    const delays = Array.from({ length: 1_000 }, () => firstCheckDelayMs(settings, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(settings.intervalMs);
    expect(Math.max(...delays)).toBeGreaterThan(settings.intervalMs * 0.9);
  });
});
