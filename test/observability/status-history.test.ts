import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { EventBus } from '../../src/core/events.js';
import { IncidentManager } from '../../src/observability/alerts/incident-manager.js';
import { DetourMetrics } from '../../src/observability/metrics/metrics.js';
import { RequestLog } from '../../src/observability/request-log/request-log.js';
import { disabledRequestLog } from '../../src/observability/settings.js';
import { StatsTracker } from '../../src/observability/stats/stats-tracker.js';
import { StatusBoard } from '../../src/observability/status/status-board.js';
import { periodLabel, StatusHistory } from '../../src/observability/status/status-history.js';
import { TargetStateView } from '../../src/observability/target-state.js';
import type { Topology } from '../../src/observability/topology.js';
import { attempt, capturingLogger, failedAttempt } from './fixtures.js';

const primary = 'primary/gpt-4o-mini';
const backup = 'backup/gpt-4o-mini';
const topology: Topology = {
  routes: [{ name: 'chat', targets: [{ id: primary, provider: 'primary', model: 'gpt-4o-mini' }, { id: backup, provider: 'backup', model: 'gpt-4o-mini' }], primary: [primary] }],
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A status board over a real request log (SQLite in a temp folder), on a manual clock. */
function gatewayAt(clock: ManualClock, path: string) {
  const events = new EventBus();
  const targets = new TargetStateView(topology, events, clock);
  const log = new RequestLog({ ...disabledRequestLog, isEnabled: true, path }, { clock, logger: capturingLogger().logger, metrics: new DetourMetrics({ processMetrics: false }) });
  const status = new StatusBoard(topology, { clock, targets, stats: new StatsTracker(clock), incidents: new IncidentManager(clock, 60_000), store: log });
  const loaded = status.history.load(clock.now());
  const close = async (): Promise<void> => {
    await loaded;
    status.history.flush();
    targets.close();
    await log.close();
  };
  return { events, status, log, loaded, close };
}

/** One request a second for `seconds`, the primary serving except while it is out; the status sampled every second as the ticker does. */
function traffic(gateway: ReturnType<typeof gatewayAt>, clock: ManualClock, seconds: number, isPrimaryOut: (second: number) => boolean): void {
  for (let second = 0; second < seconds; second++) {
    const out = isPrimaryOut(second);
    if (out) gateway.events.emit('attempt.failed', { requestId: `r${second}`, route: 'chat', record: failedAttempt(primary), message: 'refused' });
    gateway.events.emit('attempt.succeeded', { requestId: `r${second}`, route: 'chat', record: attempt(out ? backup : primary) });
    gateway.status.sample();
    clock.advance(1000);
  }
  gateway.status.sample();
}

describe('status page uptime, as observed', () => {
  it('a scripted 20 s outage of one target in 10 minutes of traffic is 96.7 % over the 10 min covered, and a restart keeps it', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'detour-status-'));
    cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
    const path = join(folder, 'requests.sqlite');
    const clock = new ManualClock(Date.UTC(2025, 5, 1, 12, 0, 0));
    const first = gatewayAt(clock, path);
    await first.loaded;
    const outageStart = 300;
    traffic(first, clock, 600, (second) => {
      if (second === outageStart) first.events.emit('circuit.opened', { target: primary, reason: 'failure_count', cooldownMs: 20_000, until: clock.now() + 20_000 });
      if (second === outageStart + 20) first.events.emit('circuit.closed', { target: primary, reason: 'probe_succeeded' });
      return second >= outageStart && second < outageStart + 20;
    });
    const provider = first.status.publicStatus().providers.find((component) => component.name === 'primary');
    expect(provider?.uptime['24h']).toBeGreaterThan(0.967 - 0.005);
    expect(provider?.uptime['24h']).toBeLessThan(0.967 + 0.005);
    expect(provider?.uptime_detail['24h']).toMatchObject({ label: 'last 10 min', down_ms: 20_000, observed_ms: 600_000 });
    expect(provider?.uptime_detail['90d'].label).toBe('last 10 min');
    const backupProvider = first.status.publicStatus().providers.find((component) => component.name === 'backup');
    expect(backupProvider?.uptime['24h']).toBe(1);
    // The route served through its backup, degraded meanwhile: its status and its uptime say the same.
    const route = first.status.publicStatus().routes[0];
    expect(route?.status).toBe('healthy');
    expect(route?.uptime_detail['24h'].degraded_ms).toBe(20_000);
    expect(route?.uptime['24h']).toBeCloseTo(580 / 600, 3);
    const today = provider?.history.at(-1);
    expect(provider?.history).toHaveLength(90);
    expect(today).toMatchObject({ date: '2025-06-01', down_ms: 20_000, observed_ms: 600_000 });
    expect(provider?.history[0]?.uptime).toBeNull();
    await first.close();

    // A restart five minutes later: the history comes back from the request log's database.
    clock.advance(300_000);
    const second = gatewayAt(clock, path);
    cleanups.push(() => second.close());
    await second.loaded;
    second.status.sample();
    const again = second.status.publicStatus().providers.find((component) => component.name === 'primary');
    expect(again?.uptime_detail['24h']).toMatchObject({ down_ms: 20_000, observed_ms: 600_000, label: 'last 15 min' });
    expect(again?.uptime['24h']).toBeCloseTo(580 / 600, 3);
    expect(again?.history.at(-1)).toMatchObject({ down_ms: 20_000 });
  });

  it('names the period covered, and the whole window once it is covered', () => {
    expect(periodLabel(11 * 60_000)).toBe('last 11 min');
    expect(periodLabel(5 * 3_600_000)).toBe('last 5 h');
    const history = new StatusHistory();
    const start = Date.UTC(2025, 0, 1);
    for (let second = 0; second <= 25 * 3600; second += 10) history.sample(start + second * 1000, new Map([['route:chat', 'healthy']]));
    const now = start + 25 * 3_600_000;
    expect(history.window('route:chat', now, 86_400_000)).toMatchObject({ uptime: 1, label: '24 h' });
    expect(history.window('route:chat', now, 7 * 86_400_000).label).toBe('last 25 h');
  });

  it('counts a gap without samples as unobserved, not as up', () => {
    const history = new StatusHistory();
    const start = Date.UTC(2025, 0, 1);
    history.sample(start, new Map([['provider:primary', 'healthy']]));
    history.sample(start + 10_000, new Map([['provider:primary', 'healthy']]));
    // The process was stopped for an hour: only 15 s of it counts, as what was seen when it came back.
    history.sample(start + 3_610_000, new Map([['provider:primary', 'down']]));
    expect(history.window('provider:primary', start + 3_610_000, 86_400_000)).toMatchObject({ observedMs: 25_000, downMs: 15_000 });
  });
});
