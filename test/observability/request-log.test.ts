import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { DetourMetrics } from '../../src/observability/metrics/metrics.js';
import { parseRequestFilter } from '../../src/observability/request-log/log-query.js';
import { RequestLog } from '../../src/observability/request-log/request-log.js';
import { disabledRequestLog, type RequestLogSettings } from '../../src/observability/settings.js';
import { attempt, capturingLogger, failedAttempt, fixtureTime, outcome } from './fixtures.js';

const folders: string[] = [];
const logs: RequestLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'detour-log-'));
  folders.push(folder);
  return folder;
}

function openLog(settings: Partial<RequestLogSettings> = {}, clock = new ManualClock(Date.UTC(2025, 0, 1))) {
  const metrics = new DetourMetrics({ processMetrics: false });
  const { logger, lines } = capturingLogger();
  const log = new RequestLog({ ...disabledRequestLog, isEnabled: true, path: join(tempFolder(), 'requests.sqlite'), ...settings }, { clock, logger, metrics });
  logs.push(log);
  return { log, metrics, lines, clock };
}

function filter(query: string) {
  const parsed = parseRequestFilter(new URLSearchParams(query));
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.filter;
}

async function counter(metrics: DetourMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const value = metric?.values.find((entry) => Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted));
  return Number(value?.value ?? 0);
}

describe('request log', () => {
  it('records every request with its attempts and finds them by route, target, status, failover and time', async () => {
    const { log } = openLog();
    await log.ready();
    const t0 = Date.UTC(2025, 0, 1, 12);
    log.record(outcome({ startedAt: t0, clientKeyId: 'team-a' }));
    log.record(
      outcome({
        startedAt: t0 + 1000,
        target: 'backup/gpt-4o-mini',
        isFailover: true,
        attempts: [failedAttempt('primary/gpt-4o-mini', 'UPSTREAM_OVERLOADED', { status: 503 }), attempt('backup/gpt-4o-mini')],
      }),
    );
    log.record(outcome({ startedAt: t0 + 2000, route: 'fast', status: 503, errorCode: 'ALL_TARGETS_FAILED', attempts: [failedAttempt('primary/small')] }));
    await log.flush();

    const all = await log.query(filter(''));
    expect(all.data.map((entry) => entry.time)).toEqual([new Date(t0 + 2000).toISOString(), new Date(t0 + 1000).toISOString(), new Date(t0).toISOString()]);
    const failover = all.data[1];
    expect(failover).toMatchObject({ route: 'chat', target: 'backup/gpt-4o-mini', failover: true, status: 200, usage: { input_tokens: 1000, output_tokens: 500 }, cost_usd: 0.00045 });
    expect(failover?.attempts).toEqual([
      expect.objectContaining({ target: 'primary/gpt-4o-mini', status: 503, error_code: 'UPSTREAM_OVERLOADED', kind: 'retryable' }),
      expect.objectContaining({ target: 'backup/gpt-4o-mini', status: 200, error_code: null }),
    ]);

    expect((await log.query(filter('route=fast'))).data.map((entry) => entry.error_code)).toEqual(['ALL_TARGETS_FAILED']);
    expect((await log.query(filter('target=primary/gpt-4o-mini'))).data).toHaveLength(2);
    expect((await log.query(filter('status=5xx'))).data.map((entry) => entry.route)).toEqual(['fast']);
    expect((await log.query(filter('status=success'))).data).toHaveLength(2);
    expect((await log.query(filter('failover=true'))).data.map((entry) => entry.target)).toEqual(['backup/gpt-4o-mini']);
    expect((await log.query(filter(`since=${new Date(t0 + 500).toISOString()}&until=${t0 + 1500}`))).data).toHaveLength(1);
    expect((await log.query(filter('client_key=team-a'))).data.map((entry) => entry.client_key_id)).toEqual(['team-a']);
  });

  it('keeps a request answered at the first try in its own row, and reads its attempt back as any other', async () => {
    const { log } = openLog();
    await log.ready();
    const t0 = Date.UTC(2025, 0, 1, 12);
    log.record(outcome({ startedAt: t0, attempts: [attempt('primary/gpt-4o-mini', { durationMs: 87.6 })] }));
    // Not folded: a probe, an attempt with Retry-After, one that served another target than the row names.
    log.record(outcome({ startedAt: t0 + 1, attempts: [attempt('primary/gpt-4o-mini', { role: 'probe' })] }));
    log.record(outcome({ startedAt: t0 + 2, attempts: [attempt('primary/gpt-4o-mini', { retryAfterMs: 1000 })] }));
    log.record(outcome({ startedAt: t0 + 3, target: 'backup/gpt-4o-mini', attempts: [attempt('primary/gpt-4o-mini')] }));
    await log.flush();
    const db = new Database(log.path, { readonly: true });
    try {
      const stored = db.prepare('SELECT r.started_at AS at, r.attempt_ms AS folded, count(a.position) AS rows FROM requests r LEFT JOIN attempts a ON a.request_seq = r.seq GROUP BY r.seq ORDER BY r.seq').all();
      expect(stored).toEqual([
        { at: t0, folded: 88, rows: 0 },
        { at: t0 + 1, folded: null, rows: 1 },
        { at: t0 + 2, folded: null, rows: 1 },
        { at: t0 + 3, folded: null, rows: 1 },
      ]);
    } finally {
      db.close();
    }
    const page = await log.query(filter(''));
    expect(page.data.map((entry) => entry.attempts)).toEqual([
      [{ target: 'primary/gpt-4o-mini', provider: 'primary', model: 'gpt-4o-mini', status: 200, error_code: null, kind: null, duration_ms: 90, retry_after_ms: null, role: null }],
      [{ target: 'primary/gpt-4o-mini', provider: 'primary', model: 'gpt-4o-mini', status: 200, error_code: null, kind: null, duration_ms: 90, retry_after_ms: 1000, role: null }],
      [{ target: 'primary/gpt-4o-mini', provider: 'primary', model: 'gpt-4o-mini', status: 200, error_code: null, kind: null, duration_ms: 90, retry_after_ms: null, role: 'probe' }],
      [{ target: 'primary/gpt-4o-mini', provider: 'primary', model: 'gpt-4o-mini', status: 200, error_code: null, kind: null, duration_ms: 88, retry_after_ms: null, role: null }],
    ]);
    expect((await log.query(filter('target=primary/gpt-4o-mini'))).data).toHaveLength(4);
  });

  it('pages newest first with an opaque cursor', async () => {
    const { log } = openLog();
    for (let index = 0; index < 5; index++) log.record(outcome({ startedAt: fixtureTime + index }));
    await log.ready();
    await log.flush();
    const first = await log.query(filter('limit=2'));
    const second = await log.query(filter(`limit=2&cursor=${first.next_cursor ?? ''}`));
    const third = await log.query(filter(`limit=2&cursor=${second.next_cursor ?? ''}`));
    expect([...first.data, ...second.data, ...third.data].map((entry) => Date.parse(entry.time) - fixtureTime)).toEqual([4, 3, 2, 1, 0]);
    expect(third.next_cursor).toBeNull();
  });

  it('explains a bad filter', () => {
    expect(parseRequestFilter(new URLSearchParams('status=teapot'))).toEqual({ error: expect.stringContaining('status') });
    expect(parseRequestFilter(new URLSearchParams('limit=100000'))).toEqual({ error: expect.stringContaining('limit') });
    expect(parseRequestFilter(new URLSearchParams('since=yesterday'))).toEqual({ error: expect.stringContaining('since') });
  });

  it('deletes records older than the retention age', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 10));
    const { log } = openLog({ maxAgeMs: 24 * 3_600_000 }, clock);
    await log.ready();
    log.record(outcome({ startedAt: clock.now() - 48 * 3_600_000 }));
    log.record(outcome({ startedAt: clock.now() - 3_600_000 }));
    await log.flush();
    await log.applyRetention();
    const left = await log.query(filter(''));
    expect(left.data.map((entry) => Date.parse(entry.time))).toEqual([clock.now() - 3_600_000]);
  });

  it('keeps the file under its size limit by deleting the oldest records', async () => {
    const { log } = openLog({ maxSizeBytes: 256 * 1024, batchSize: 500 });
    await log.ready();
    for (let index = 0; index < 6000; index++) log.record(outcome({ startedAt: fixtureTime + index, requestId: `req_${'x'.repeat(100)}_${index}` }));
    await log.flush();
    await log.applyRetention();
    const newest = await log.query(filter('limit=1'));
    expect(newest.data[0]?.time).toBe(new Date(fixtureTime + 5999).toISOString());
    expect((await log.query(filter(`until=${fixtureTime + 1000}`))).data).toHaveLength(0);
    await log.close();
    const path = join(folders[0] as string, 'requests.sqlite');
    expect(statSync(path).size).toBeLessThan(512 * 1024);
  });

  it('goes on when the disk cannot be written: the loss is counted and logged once', async () => {
    const folder = tempFolder();
    writeFileSync(join(folder, 'not-a-folder'), 'x');
    const metrics = new DetourMetrics({ processMetrics: false });
    const { logger, lines } = capturingLogger();
    const log = new RequestLog({ ...disabledRequestLog, isEnabled: true, path: join(folder, 'not-a-folder', 'requests.sqlite') }, { clock: new ManualClock(0), logger, metrics });
    logs.push(log);
    await log.ready();
    for (let index = 0; index < 3; index++) log.record(outcome());
    expect(log.isAvailable).toBe(false);
    expect(await counter(metrics, 'detour_request_log_dropped_total', { reason: 'unavailable' })).toBe(3);
    expect(lines.filter((line) => line.level === 50)).toHaveLength(1);
    expect(JSON.stringify(lines)).toContain('not-a-folder');
  });

  it('drops and counts records beyond its queue rather than growing without bound', async () => {
    const { log, metrics, lines } = openLog({ queueSize: 10, batchSize: 1000, flushIntervalMs: 60_000 });
    for (let index = 0; index < 25; index++) log.record(outcome());
    expect(await counter(metrics, 'detour_request_log_dropped_total', { reason: 'queue_full' })).toBe(15);
    expect(lines.filter((line) => String(line.msg).includes('queue is full'))).toHaveLength(1);
    await log.ready();
    await log.flush();
    expect((await log.query(filter(''))).data).toHaveLength(10);
    expect(await counter(metrics, 'detour_request_log_written_total')).toBe(10);
  });

  it('keeps why a request failed, and adds that column to a file an older Detour created without losing its rows', async () => {
    const path = join(tempFolder(), 'old.sqlite');
    // The requests table as the first release wrote it: no error_message.
    const old = new Database(path);
    old.exec(`CREATE TABLE requests (seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL, started_at INTEGER NOT NULL, route TEXT NOT NULL, client_key_id TEXT, format TEXT NOT NULL,
      stream INTEGER NOT NULL, target TEXT, provider TEXT, model TEXT, status INTEGER NOT NULL, error_code TEXT, is_failover INTEGER NOT NULL, is_degraded INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL, ttft_ms INTEGER, input_tokens INTEGER, output_tokens INTEGER, cached_tokens INTEGER, cost_usd REAL, failed_cost_usd REAL NOT NULL,
      hedge_cost_usd REAL NOT NULL, mirror_cost_usd REAL NOT NULL, request_body TEXT, response_body TEXT)`);
    old.prepare(`INSERT INTO requests (request_id, started_at, route, format, stream, status, error_code, is_failover, is_degraded, latency_ms, failed_cost_usd, hedge_cost_usd, mirror_cost_usd)
      VALUES ('old-1', ?, 'chat', 'openai', 0, 503, 'ALL_TARGETS_FAILED', 0, 0, 12, 0, 0, 0)`).run(Date.UTC(2025, 0, 1, 11));
    old.close();
    const { log } = openLog({ path });
    await log.ready();
    log.record(outcome({ requestId: 'new-1', startedAt: Date.UTC(2025, 0, 1, 12), status: 404, route: '(rejected)', errorCode: 'NOT_FOUND', errorMessage: 'GET /v1/nope is not served here', attempts: [] }));
    await log.flush();
    const rows = (await log.query(filter(''))).data;
    expect(rows.map((row) => [row.id, row.error_code, row.error_message])).toStrictEqual([
      ['new-1', 'NOT_FOUND', 'GET /v1/nope is not served here'],
      ['old-1', 'ALL_TARGETS_FAILED', null],
    ]);
  });
});
