import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { IncidentManager } from '../../src/observability/alerts/incident-manager.js';
import type { AlertMessage } from '../../src/observability/alerts/incident.js';
import { DetourMetrics } from '../../src/observability/metrics/metrics.js';
import { burnRate, burnPolicies, evaluateBurn } from '../../src/observability/slo/burn-rate.js';
import { SloMonitor } from '../../src/observability/slo/slo-monitor.js';
import type { SloSettings } from '../../src/observability/settings.js';
import { outcome } from './fixtures.js';

const fast = burnPolicies[0]!;

function monitor(slo: Partial<SloSettings> = {}) {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const incidents = new IncidentManager(clock, 60_000);
  const messages: AlertMessage[] = [];
  incidents.onMessage((message) => messages.push(message));
  const metrics = new DetourMetrics({ processMetrics: false });
  const slos = new SloMonitor([{ route: 'chat', successRate: 0.999, minRequests: 20, ...slo }], { clock, incidents, metrics });
  /** `perMinute` requests a minute for `minutes`, `failing` of them failed, evaluating every minute. */
  const traffic = (minutes: number, perMinute: number, failing: number, latencyMs = 100): void => {
    for (let minute = 0; minute < minutes; minute++) {
      for (let index = 0; index < perMinute; index++) slos.record(outcome(index < failing ? { status: 503 } : { latencyMs }));
      clock.advance(60_000);
      slos.evaluate();
      incidents.tick();
    }
  };
  return { clock, slos, messages, traffic, metrics };
}

describe('burn rate', () => {
  it('is the bad ratio over the error budget', () => {
    expect(burnRate({ total: 1000, bad: 1 }, 0.999)).toBeCloseTo(1);
    expect(burnRate({ total: 1000, bad: 20 }, 0.999)).toBeCloseTo(20);
    expect(burnRate({ total: 0, bad: 0 }, 0.999)).toBe(0);
  });

  it('fires only when both windows burn and the long one has enough requests', () => {
    expect(evaluateBurn(fast, { total: 1000, bad: 20 }, { total: 100, bad: 2 }, 0.999, 20).isFiring).toBe(true);
    expect(evaluateBurn(fast, { total: 1000, bad: 20 }, { total: 100, bad: 0 }, 0.999, 20).isFiring).toBe(false);
    expect(evaluateBurn(fast, { total: 10, bad: 10 }, { total: 10, bad: 10 }, 0.999, 20).isFiring).toBe(false);
  });
});

describe('SLO monitor', () => {
  it('pages on a fast burn within minutes, once, and recovers when the failures stop', () => {
    const { messages, traffic, slos } = monitor();
    traffic(30, 100, 0);
    expect(messages).toEqual([]);
    traffic(2, 100, 50);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.incident).toMatchObject({ type: 'slo_burn', route: 'chat', severity: 'critical', key: 'slo_burn:chat:availability' });
    expect(messages[0]?.incident.title).toContain('99.9 % success');
    expect(slos.status().chat?.availability?.policies[0]).toMatchObject({ speed: 'fast', firing: true });
    // The slow policy's 30-minute window still holds the failures; then the hold-down.
    traffic(25, 100, 0);
    expect(messages).toHaveLength(1);
    traffic(10, 100, 0);
    expect(messages.map((message) => message.state)).toEqual(['firing', 'resolved']);
  });

  it('does not page for one bad minute in an otherwise good hour', () => {
    const { messages, traffic } = monitor();
    traffic(60, 100, 0);
    traffic(1, 100, 3);
    traffic(10, 100, 0);
    expect(messages).toEqual([]);
  });

  it('warns on a slow burn that the fast policy would not notice', () => {
    const { messages, traffic } = monitor();
    // 0.8 % failures: 8× the budget: above the slow threshold (6), below the fast one (14.4).
    traffic(360, 1000, 8);
    expect(messages.map((message) => [message.state, message.incident.severity])).toEqual([['firing', 'warning']]);
  });

  it('tracks a latency objective: 95 % of answers under p95_ms', () => {
    const { messages, traffic, slos } = monitor({ successRate: undefined, p95Ms: 2000 });
    traffic(20, 100, 0, 500);
    expect(slos.status().chat?.latency?.windows['1h']).toMatchObject({ bad: 0, sli: 1 });
    traffic(10, 100, 0, 3000);
    expect(messages[0]?.incident.key).toBe('slo_burn:chat:latency');
    expect(messages[0]?.incident.title).toContain('p95 ≤ 2000 ms');
  });

  it('leaves client errors out of the budget', () => {
    const { messages, slos, clock } = monitor();
    for (let index = 0; index < 500; index++) slos.record(outcome({ status: 400, errorCode: 'INVALID_REQUEST' }));
    clock.advance(60_000);
    slos.evaluate();
    expect(messages).toEqual([]);
    expect(slos.status().chat?.availability?.windows['5m']?.total).toBe(0);
  });
});
