import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { EventBus } from '../../src/core/events.js';
import { IncidentManager } from '../../src/observability/alerts/incident-manager.js';
import { EventFeed, type FeedEvent } from '../../src/observability/event-feed.js';
import { StatsTracker } from '../../src/observability/stats/stats-tracker.js';
import { StatusBoard } from '../../src/observability/status/status-board.js';
import { TargetStateView } from '../../src/observability/target-state.js';
import type { Topology } from '../../src/observability/topology.js';
import { attempt, failedAttempt } from './fixtures.js';

const primary = 'primary/gpt-4o-mini';
const backup = 'backup/gpt-4o-mini';
const topology: Topology = {
  routes: [{ name: 'chat', targets: [{ id: primary, provider: 'primary', model: 'gpt-4o-mini' }, { id: backup, provider: 'backup', model: 'gpt-4o-mini' }], primary: [primary] }],
};

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('event feed', () => {
  it('folds a storm of failovers into one line and a count', async () => {
    const clock = new ManualClock(0);
    const events = new EventBus();
    const feed = new EventFeed(events, clock);
    const seen: FeedEvent[] = [];
    feed.subscribe((event) => seen.push(event));
    for (let request = 0; request < 40; request++) events.emit('failover.performed', { requestId: `r${request}`, route: 'chat', from: primary, to: backup, code: 'UPSTREAM_CONNECT_FAILED' });
    events.emit('circuit.opened', { target: primary, reason: 'failure_count', cooldownMs: 30_000, until: 30_000 });
    await nextTurn();
    expect(seen.map((event) => event.type)).toEqual(['failover', 'circuit']);
    expect(seen[0]?.message).toBe(`route chat: failed over from ${primary} to ${backup} (UPSTREAM_CONNECT_FAILED)`);
    clock.advance(5000);
    feed.tick();
    await nextTurn();
    expect(seen[2]).toMatchObject({ type: 'failover', data: { count: 39 } });
    expect(feed.recent()).toHaveLength(3);
  });
});

describe('status board', () => {
  function board() {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const events = new EventBus();
    const targets = new TargetStateView(topology, events, clock);
    const incidents = new IncidentManager(clock, 60_000);
    const status = new StatusBoard(topology, { clock, targets, stats: new StatsTracker(clock), incidents });
    return { clock, events, status };
  }

  it('calls a route degraded while its primary is out and down when every target is', () => {
    const { events, status, clock } = board();
    expect(status.publicStatus()).toMatchObject({ status: 'healthy', routes: [{ name: 'chat', status: 'healthy' }] });
    events.emit('circuit.opened', { target: primary, reason: 'failure_count', cooldownMs: 30_000, until: clock.now() + 30_000 });
    expect(status.publicStatus()).toMatchObject({ status: 'degraded', providers: [{ name: 'primary', status: 'down' }, { name: 'backup', status: 'healthy' }] });
    for (let call = 0; call < 3; call++) events.emit('attempt.failed', { requestId: 'r', route: 'chat', record: failedAttempt(backup), message: 'x' });
    expect(status.publicStatus().routes[0]?.status).toBe('down');
    events.emit('attempt.succeeded', { requestId: 'r', route: 'chat', record: attempt(backup) });
    expect(status.publicStatus().routes[0]?.status).toBe('degraded');
  });

  it('computes uptime from what it observed each second: degraded and down time both count against it, and are told apart', () => {
    const { events, status, clock } = board();
    for (let second = 0; second < 3600; second++) {
      if (second === 1800) events.emit('circuit.opened', { target: primary, reason: 'failure_count', cooldownMs: 1, until: 0 });
      if (second === 2700) events.emit('circuit.opened', { target: backup, reason: 'failure_count', cooldownMs: 1, until: 0 });
      status.sample();
      clock.advance(1000);
    }
    const route = status.publicStatus().routes[0];
    expect(route?.status).toBe('down');
    expect(route?.uptime['24h']).toBeCloseTo(1800 / 3600, 3);
    expect(route?.uptime_detail['24h']).toMatchObject({ label: 'last 60 min', degraded_ms: 900_000, down_ms: 900_000 });
    expect(JSON.stringify(status.publicStatus())).not.toContain('gpt-4o-mini');
  });
});
