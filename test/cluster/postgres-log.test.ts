import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { requestLogSchemaVersion } from '../../src/observability/request-log/postgres-schema.js';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { describeWithPostgres, PostgresServer } from '../helpers/postgres.js';
import { killLeftovers, startDetourProcess } from '../helpers/detour-process.js';

const cleanup = new Cleanup();
const children: ChildProcess[] = [];
let postgres: PostgresServer;
let sim: Simulator;
let databases = 0;

beforeAll(async () => {
  postgres = await PostgresServer.start();
  sim = await startSim();
}, 120_000);

afterAll(async () => {
  killLeftovers(children);
  await cleanup.run();
  await sim?.close();
  await postgres?.close();
}, 60_000);

interface Instance {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/** `detour start` with its request log in `logUrl` (given through `${DETOUR_LOG_URL}`, as a deployment would). */
async function startDetour(logUrl: string, extraLog = ''): Promise<Instance> {
  const folder = mkdtempSync(join(tmpdir(), 'detour-pglog-'));
  cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
  const config = join(folder, 'detour.yaml');
  writeFileSync(
    config,
    `server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 5000 }
log: { url: "\${DETOUR_LOG_URL}", path: ${join(folder, 'unused.sqlite')}, flush_interval_ms: 50${extraLog} }
providers:
  primary: { type: openai, base_url: ${sim.url}/v1, api_key: sk-test-key-0001 }
models:
  chat: { targets: [{ provider: primary, model: gpt-4o-mini }] }
  other: { targets: [{ provider: primary, model: gpt-4o }] }
`,
  );
  const { url, child, exited, output: outputOf } = await startDetourProcess(config, { children, env: { ...process.env, DETOUR_LOG_URL: logUrl }, isReady: (printed) => printed.includes('request log: ') });
  return { url, child, exited, output: outputOf };
}

async function ask(url: string, model = 'chat', stream = false): Promise<{ status: number; id: string }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Hello' }] }),
  });
  await response.text();
  return { status: response.status, id: response.headers.get('x-request-id') ?? '' };
}

interface LoggedPage {
  data: Array<{ id: string; route: string; status: number; stream: boolean; attempts: Array<{ target: string }> }>;
  next_cursor: string | null;
}

async function admin<T>(url: string, path: string): Promise<{ status: number; body: T; text: string }> {
  const response = await fetch(`${url}${path}`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as T, text };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && !line.startsWith('#'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/** Waits for `check` to hold, polling; fails with the last value seen after a generous time. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const start = Date.now();
  let last: T | undefined;
  while (Date.now() - start < ms) {
    last = await read();
    if (check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)}`);
}

async function stopDetour(instance: Instance): Promise<void> {
  instance.child.kill('SIGTERM');
  expect(await instance.exited).toBe(0);
}

const gateways: RunningGateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  await postgres.start();
}, 60_000);

/** An in-process gateway (its metrics and log lines at hand) with its request log in `logUrl`; every line it logs goes to `lines`. */
async function startLogged(logUrl: string, lines: string[], log: Record<string, unknown> = {}): Promise<RunningGateway> {
  const logger = pino({ level: 'info', base: undefined }, { write: (line: string) => lines.push(line) });
  const gateway = await startGateway(
    {
      log: { enabled: true, url: logUrl, flush_interval_ms: 50, ...log },
      providers: { primary: openAiProvider(sim) },
      models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
    },
    { logger, processMetrics: false },
  );
  gateways.push(gateway);
  return gateway;
}

function counter(gateway: RunningGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  return gateway.observability.metrics.registry.getSingleMetric(name)?.get().then((read) => read.values.filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted)).reduce((sum, value) => sum + value.value, 0)) ?? Promise.resolve(Number.NaN);
}

async function loggedIds(url: string): Promise<string[]> {
  // Before the gateway first reached the database, there is no table yet.
  const rows = await postgres.sql<{ request_id: string }>('SELECT request_id FROM requests', url.split('/').pop()).catch((error: { code?: string }) => {
    if (error.code === '42P01') return [];
    throw error;
  });
  return rows.map((row) => row.request_id).sort();
}

async function newDatabase(): Promise<string> {
  return postgres.createDatabase(`detour_${++databases}`);
}

describeWithPostgres('a request log in PostgreSQL (log.url), shared by a cluster', () => {
  it('two detour start instances share one log: each one\'s admin API and dashboard data show both instances\' requests', async () => {
    const url = await newDatabase();
    const [a, b] = await Promise.all([startDetour(url), startDetour(url)]);
    for (const instance of [a, b]) {
      expect(instance.output()).toContain(`request log: postgres://detour:[redacted]@127.0.0.1:${postgres.port}/`);
      expect(instance.output()).not.toContain(PostgresServer.password);
    }
    const sentToA = [await ask(a.url), await ask(a.url, 'other'), await ask(a.url, 'chat', true)];
    const sentToB = [await ask(b.url), await ask(b.url, 'other', true)];
    for (const sent of [...sentToA, ...sentToB]) expect(sent.status).toBe(200);
    const everyId = [...sentToA, ...sentToB].map((sent) => sent.id).sort();

    for (const instance of [a, b]) {
      const page = await eventually(() => admin<LoggedPage>(instance.url, '/admin/api/requests'), (read) => read.body.data.length === 5, 'requests seen');
      expect(page.status).toBe(200);
      expect(page.body.data.map((entry) => entry.id).sort()).toEqual(everyId);
      expect(page.body.data.find((entry) => entry.id === sentToB[1]?.id)).toMatchObject({ route: 'other', status: 200, stream: true, attempts: [{ target: 'primary/gpt-4o' }] });
      // Filters and pagination run in the database, over the whole cluster.
      const other = await admin<LoggedPage>(instance.url, '/admin/api/requests?route=other');
      expect(other.body.data.map((entry) => entry.id).sort()).toEqual([sentToA[1]?.id, sentToB[1]?.id].sort());
      const first = await admin<LoggedPage>(instance.url, '/admin/api/requests?limit=3');
      expect(first.body.data).toHaveLength(3);
      const second = await admin<LoggedPage>(instance.url, `/admin/api/requests?limit=3&cursor=${first.body.next_cursor}`);
      expect(second.body.next_cursor).toBeNull();
      expect([...first.body.data, ...second.body.data].map((entry) => entry.id).sort()).toEqual(everyId);
      // The dashboard's traffic chart reads the same log.
      const traffic = await admin<{ source: string; targets: string[]; buckets: Array<{ served: number[]; failed: number }> }>(instance.url, '/admin/api/traffic?range=5m');
      expect(traffic.status).toBe(200);
      expect(traffic.body.source).toBe('request_log');
      const served = (target: string): number => traffic.body.buckets.reduce((sum, bucket) => sum + (bucket.served[traffic.body.targets.indexOf(target)] ?? 0), 0);
      expect([served('primary/gpt-4o-mini'), served('primary/gpt-4o')]).toEqual([3, 2]);
      expect(JSON.stringify(traffic.body)).not.toContain(PostgresServer.password);
      const overview = await admin<{ request_log: Record<string, unknown> }>(instance.url, '/admin/api/overview');
      expect(overview.body.request_log).toEqual({ enabled: true, available: true, backend: 'postgres' });
    }
    await Promise.all([stopDetour(a), stopDetour(b)]);
    const rows = await postgres.sql<{ count: number }>('SELECT count(*)::int AS count FROM requests', url.split('/').pop());
    expect(rows[0]?.count).toBe(5);
    const version = await postgres.sql<{ version: number }>(`SELECT version FROM detour_schema WHERE component = 'request_log'`, url.split('/').pop());
    expect(version[0]?.version).toBe(requestLogSchemaVersion);
    for (const instance of [a, b]) expect(instance.output()).not.toContain(PostgresServer.password);
  }, 120_000);

  it('PostgreSQL down at start: requests are served, records wait in the queue, the admin API says 503, and all are written once it is back', async () => {
    const url = await newDatabase();
    await postgres.stop();
    const lines: string[] = [];
    const gateway = await startLogged(url, lines);
    const sent = await Promise.all(Array.from({ length: 4 }, () => ask(gateway.url)));
    expect(sent.map((entry) => entry.status)).toEqual([200, 200, 200, 200]);
    const refused = await admin<{ error: { code: string } }>(gateway.url, '/admin/api/requests');
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('REQUEST_LOG_UNAVAILABLE');
    expect(await metric(gateway.url, 'detour_request_log_up')).toBe(0);
    expect(await metric(gateway.url, 'detour_request_log_queue_depth')).toBe(4);
    expect(lines.join('')).toContain('the database is unreachable');

    await postgres.start();
    await eventually(() => loggedIds(url), (ids) => ids.length === 4, 'records written after the database came back');
    expect(await loggedIds(url)).toEqual(sent.map((entry) => entry.id).sort());
    const page = await eventually(() => admin<LoggedPage>(gateway.url, '/admin/api/requests'), (read) => read.status === 200, 'admin API back');
    expect(page.body.data).toHaveLength(4);
    expect(await counter(gateway, 'detour_request_log_dropped_total')).toBe(0);
    expect(await metric(gateway.url, 'detour_request_log_up')).toBe(1);
    expect(lines.join('')).toContain('reachable again');
    expect(lines.join('')).not.toContain(PostgresServer.password);
  }, 90_000);

  it('PostgreSQL stopped during traffic: every request is served, and every one reaches the log once it is back', async () => {
    const url = await newDatabase();
    const lines: string[] = [];
    const gateway = await startLogged(url, lines);
    const sent: Array<{ status: number; id: string }> = [];
    let isSending = true;
    const load = (async () => {
      while (isSending) sent.push(...(await Promise.all([ask(gateway.url), ask(gateway.url, 'chat', true)])));
    })();
    cleanup.add({ close: () => ((isSending = false), load.catch(() => undefined)) });
    await eventually(async () => (await loggedIds(url)).length, (count) => count >= 10, 'traffic logged before the outage');
    await postgres.stop();
    const atStop = sent.length;
    await eventually(async () => sent.length, (count) => count >= atStop + 20, 'traffic served during the outage');
    await postgres.start();
    await eventually(async () => sent.length, (count) => count >= atStop + 40, 'traffic served after the outage');
    isSending = false;
    await load;
    expect(sent.every((entry) => entry.status === 200)).toBe(true);
    await eventually(() => loggedIds(url), (ids) => ids.length === sent.length, 'every request written');
    expect(await loggedIds(url)).toEqual(sent.map((entry) => entry.id).sort());
    expect(await counter(gateway, 'detour_request_log_dropped_total')).toBe(0);
    expect(lines.join('')).not.toContain(PostgresServer.password);
  }, 120_000);

  it('what does not fit the queue while PostgreSQL is down, and what is left at exit, is counted and logged, never lost silently', async () => {
    const url = await newDatabase();
    await postgres.stop();
    const lines: string[] = [];
    const gateway = await startLogged(url, lines, { queue_size: 5 });
    const sent = await Promise.all(Array.from({ length: 8 }, () => ask(gateway.url)));
    expect(sent.every((entry) => entry.status === 200)).toBe(true);
    await eventually(() => counter(gateway, 'detour_request_log_dropped_total', { reason: 'queue_full' }), (count) => count === 3, 'overflow counted');
    expect(lines.join('')).toContain('records are being lost');
    await postgres.start();
    await eventually(() => loggedIds(url), (ids) => ids.length === 5, 'the queued five written');
    await postgres.stop();
    await Promise.all([ask(gateway.url), ask(gateway.url)]);
    await gateways.splice(0)[0]?.close();
    expect(await counter(gateway, 'detour_request_log_dropped_total', { reason: 'unavailable' })).toBe(2);
    expect(lines.join('')).toContain('2 record(s) could not be written before exit');
    expect(lines.join('')).not.toContain(PostgresServer.password);
  }, 120_000);
});
