import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { EventBus } from '../../src/core/events.js';
import { IncidentDetector } from '../../src/observability/alerts/incident-detector.js';
import { IncidentManager } from '../../src/observability/alerts/incident-manager.js';
import type { AlertMessage } from '../../src/observability/alerts/incident.js';
import type { Topology } from '../../src/observability/topology.js';
import { attempt, failedAttempt, outcome } from './fixtures.js';

const primary = 'primary/gpt-4o-mini';
const backup = 'backup/gpt-4o-mini';
const topology: Topology = {
  routes: [{ name: 'chat', targets: [{ id: primary, provider: 'primary', model: 'gpt-4o-mini' }, { id: backup, provider: 'backup', model: 'gpt-4o-mini' }], primary: [primary] }],
};

function setup(options: { minFailovers?: number; resolveAfterMs?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2025, 0, 1, 12));
  const events = new EventBus();
  const incidents = new IncidentManager(clock, options.resolveAfterMs ?? 60_000);
  const messages: AlertMessage[] = [];
  incidents.onMessage((message) => messages.push(message));
  const detector = new IncidentDetector(events, { clock, topology, incidents, minFailovers: options.minFailovers ?? 3, redact: (text) => text.replaceAll('sk-secret-123', '[redacted]') });
  const failover = (code: 'UPSTREAM_CONNECT_FAILED' | 'CONTEXT_LENGTH_EXCEEDED' = 'UPSTREAM_CONNECT_FAILED'): void => {
    events.emit('attempt.failed', { requestId: 'r', route: 'chat', record: failedAttempt(primary, code), message: 'could not connect with key sk-secret-123' });
    events.emit('failover.performed', { requestId: 'r', route: 'chat', from: primary, to: backup, code });
    events.emit('attempt.succeeded', { requestId: 'r', route: 'chat', record: attempt(backup) });
  };
  const primaryServes = (): void => events.emit('attempt.succeeded', { requestId: 'r', route: 'chat', record: attempt(primary) });
  return { clock, events, incidents, messages, detector, failover, primaryServes };
}

describe('incidents', () => {
  it('turns an outage into one alert and one recovery, however many requests fail over', () => {
    const { clock, incidents, messages, failover, primaryServes } = setup();
    for (let request = 0; request < 50; request++) {
      failover();
      clock.advance(100);
      incidents.tick();
    }
    expect(messages.map((message) => message.state)).toEqual(['firing']);
    const firing = messages[0]?.incident;
    expect(firing).toMatchObject({ type: 'target_down', target: primary, servingTargets: { chat: backup } });
    expect(firing?.error).toContain('UPSTREAM_CONNECT_FAILED');
    expect(firing?.error).not.toContain('sk-secret-123');

    primaryServes();
    clock.advance(59_000);
    incidents.tick();
    expect(messages).toHaveLength(1);
    clock.advance(1000);
    incidents.tick();
    expect(messages.map((message) => message.state)).toEqual(['firing', 'resolved']);
  });

  it('keeps a flapping target one incident: a relapse within the hold-down cancels the recovery', () => {
    const { clock, incidents, messages, failover, primaryServes } = setup({ minFailovers: 1 });
    failover();
    for (let flap = 0; flap < 5; flap++) {
      clock.advance(10_000);
      primaryServes();
      clock.advance(30_000);
      incidents.tick();
      failover();
    }
    clock.advance(120_000);
    incidents.tick();
    expect(messages.map((message) => message.state)).toEqual(['firing']);
  });

  it('does not call a target down for a single blip, nor for failovers the request itself caused', () => {
    const { clock, incidents, messages, failover } = setup({ minFailovers: 3 });
    failover();
    failover();
    for (let request = 0; request < 10; request++) failover('CONTEXT_LENGTH_EXCEEDED');
    clock.advance(5000);
    incidents.tick();
    expect(messages).toEqual([]);
  });

  it('waits a moment before announcing, so the alert can say who took over; a problem gone by then is never announced', () => {
    const { clock, events, incidents, messages, primaryServes } = setup({ resolveAfterMs: 100 });
    events.emit('circuit.opened', { target: primary, reason: 'failure_count', cooldownMs: 30_000, until: clock.now() + 30_000 });
    events.emit('circuit.closed', { target: primary, reason: 'reset' });
    primaryServes();
    clock.advance(500);
    incidents.tick();
    clock.advance(5000);
    incidents.tick();
    expect(messages).toEqual([]);
    expect(incidents.incidents()).toEqual([]);
  });

  it('reports an open circuit at once and waits for it to close before recovering', () => {
    const { clock, events, incidents, messages, primaryServes } = setup();
    events.emit('circuit.opened', { target: primary, reason: 'failure_rate', cooldownMs: 30_000, until: clock.now() + 30_000 });
    clock.advance(1000);
    incidents.tick();
    expect(messages.map((message) => message.incident.notes.map((note) => note.text))).toEqual([['circuit opened (failure rate)']]);
    primaryServes();
    clock.advance(120_000);
    incidents.tick();
    expect(messages).toHaveLength(1);
    events.emit('circuit.closed', { target: primary, reason: 'probe_succeeded' });
    clock.advance(60_000);
    incidents.tick();
    expect(messages.map((message) => message.state)).toEqual(['firing', 'resolved']);
  });

  it('raises a route-wide incident when no target could answer, and resolves it after the next success', () => {
    const { clock, detector, incidents, messages } = setup({ resolveAfterMs: 1000 });
    for (let request = 0; request < 5; request++) {
      detector.recordOutcome(outcome({ status: 503, errorCode: 'ALL_TARGETS_FAILED', attempts: [failedAttempt(primary), failedAttempt(backup)] }));
    }
    clock.advance(1000);
    incidents.tick();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.incident).toMatchObject({ type: 'all_targets_failed', route: 'chat', severity: 'critical' });
    detector.recordOutcome(outcome());
    clock.advance(1000);
    incidents.tick();
    expect(messages.map((message) => message.state)).toEqual(['firing', 'resolved']);
    expect(incidents.resolvedWithin(60_000)).toHaveLength(1);
  });
});
