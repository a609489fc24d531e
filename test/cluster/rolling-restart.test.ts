import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';
import { describeWithService } from '../helpers/describe-with-service.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const cleanup = new Cleanup();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cleanup.run();
});

function findHaproxy(): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    try {
      accessSync(join(directory, 'haproxy'), constants.X_OK);
      return join(directory, 'haproxy');
    } catch {
      // not here
    }
  }
  return undefined;
}

const haproxy = findHaproxy();
const missingReason = 'haproxy is not on PATH (apt install haproxy)';

function describeWithHaproxy(name: string, body: () => void): void {
  describeWithService(name, body, { isInstalled: haproxy !== undefined, missingReason });
}

interface Instance {
  name: string;
  port: number;
  logPath: string;
  config: string;
  child?: ChildProcess;
  exited?: Promise<number | null>;
  output: string;
}

async function startDetour(instance: Instance): Promise<void> {
  const child = spawn(process.execPath, [cli, 'start', '--config', instance.config], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  instance.child = child;
  instance.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const collect = (chunk: Buffer): void => {
    instance.output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = instance.exited;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (instance.output.includes('listening on ')) resolve();
    });
    void exited.then((code) => reject(new Error(`${instance.name} exited ${code}: ${instance.output}`)));
  });
}

/** SIGTERM, then the exit: 0 once it drained, served what it had and flushed its log. */
async function stopDetour(instance: Instance): Promise<number | null> {
  instance.child?.kill('SIGTERM');
  return (await instance.exited) ?? null;
}

/** HAProxy's view of each server (`UP`, `DOWN`, `UP 1/2`…), from its CSV stats page. */
async function serverStates(statsUrl: string): Promise<Record<string, string>> {
  const csv = await (await fetch(`${statsUrl};csv`)).text();
  const states: Record<string, string> = {};
  for (const line of csv.split('\n')) {
    const [proxy, server, ...rest] = line.split(',');
    if (proxy === 'detour' && server !== undefined && server !== 'BACKEND' && server !== 'FRONTEND') states[server] = rest[15] ?? '';
  }
  return states;
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Sent {
  id: string | null;
  stream: boolean;
  failure?: string;
}

/** One request through the load balancer, judged as its client would: a 200 with a whole answer, a stream ending in [DONE] with no error event. */
async function send(url: string, stream: boolean): Promise<Sent> {
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', stream, messages: [{ role: 'user', content: 'Hello' }] }),
    });
    const text = await response.text();
    const id = response.headers.get('x-request-id');
    if (response.status !== 200) return { id, stream, failure: `status ${response.status}: ${text.slice(0, 200)}` };
    if (stream && (!text.includes('data: [DONE]') || text.includes('"error"'))) return { id, stream, failure: `stream: ${text.slice(-200)}` };
    if (!stream && !(JSON.parse(text) as { choices?: unknown[] }).choices?.length) return { id, stream, failure: `body: ${text.slice(0, 200)}` };
    return { id, stream };
  } catch (error) {
    return { id: null, stream, failure: `fetch: ${error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error)}` };
  }
}

function loggedIds(logPath: string): string[] {
  const db = new Database(logPath, { readonly: true });
  try {
    return (db.prepare('SELECT request_id FROM requests').all() as Array<{ request_id: string }>).map((row) => row.request_id);
  } finally {
    db.close();
  }
}

describeWithHaproxy('a rolling restart of two instances behind HAProxy', () => {
  it('restarts A, then B, under steady streamed and non-streamed load: 0 failed requests, every request in a request log', async () => {
    // Streams of 8 chunks 100 ms apart: some are always in flight when an instance is told to stop.
    const sim = cleanup.add(await startSim({ chunkDelayMs: 100 }));
    const folder = mkdtempSync(join(tmpdir(), 'detour-rolling-'));
    cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
    const instances: Instance[] = [];
    for (const name of ['a', 'b']) {
      const port = await freePort();
      const logPath = join(folder, `${name}.sqlite`);
      const config = join(folder, `${name}.yaml`);
      writeFileSync(
        config,
        `server: { host: 127.0.0.1, port: ${port}, shutdown_drain_ms: 2000, shutdown_grace_ms: 30000 }
log: { path: ${logPath} }
providers:
  primary: { type: openai, base_url: ${sim.url}/v1, api_key: sk-test-key-0001 }
models:
  chat:
    targets: [{ provider: primary, model: gpt-4o-mini }]
`,
      );
      instances.push({ name, port, logPath, config, output: '' });
    }
    const [a, b] = instances as [Instance, Instance];
    await Promise.all([startDetour(a), startDetour(b)]);

    const frontPort = await freePort();
    const statsPort = await freePort();
    const haproxyConfig = join(folder, 'haproxy.cfg');
    // Health checks every 100 ms; two failures mark a server down, two passes bring it back.
    writeFileSync(
      haproxyConfig,
      `global
  maxconn 2000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  # A check answered slowly on a loaded machine is not a failed one (the check timeout is the interval otherwise).
  timeout check 5s
  # No retries: a request sent to a closed port would fail, so the drain is what keeps every request whole.
  retries 0
frontend front
  bind 127.0.0.1:${frontPort}
  default_backend detour
frontend stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
backend detour
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server check inter 100ms fall 2 rise 2
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${b.port}
`,
    );
    execFileSync(haproxy as string, ['-c', '-f', haproxyConfig], { stdio: 'pipe' });
    const balancer = spawn(haproxy as string, ['-db', '-f', haproxyConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(balancer);
    let balancerOutput = '';
    balancer.stderr.on('data', (chunk: Buffer) => (balancerOutput += chunk.toString()));
    cleanup.add({ close: () => void balancer.kill('SIGTERM') });
    const front = `http://127.0.0.1:${frontPort}`;
    const stats = `http://127.0.0.1:${statsPort}/stats`;
    let states: Record<string, string> = {};
    const bothUp = async (): Promise<boolean> => {
      states = await serverStates(stats).catch((error: unknown) => ({ error: String(error) }));
      return states.a === 'UP' && states.b === 'UP';
    };
    await until(bothUp, 'haproxy to see both instances up').catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(states)} ${balancerOutput}`);
    });

    const sent: Sent[] = [];
    let isLoading = true;
    // Four clients, each alternating a streamed and a non-streamed request, without pause.
    const clients = Array.from({ length: 4 }, async (_, index) => {
      for (let turn = index; isLoading; turn++) sent.push(await send(front, turn % 2 === 0));
    });
    cleanup.add({ close: () => ((isLoading = false), Promise.all(clients).then(() => undefined)) });
    const afterMore = (count: number): Promise<void> => {
      const target = sent.length + count;
      return until(() => sent.length >= target, `${count} more requests`);
    };

    await afterMore(40);
    for (const instance of [a, b]) {
      expect(await stopDetour(instance)).toBe(0);
      await startDetour(instance);
      await until(bothUp, `haproxy to see ${instance.name} up again`);
      await afterMore(40);
    }
    isLoading = false;
    await Promise.all(clients);

    const failures = sent.filter((entry) => entry.failure !== undefined);
    expect(failures).toEqual([]);
    expect(sent.filter((entry) => entry.stream).length).toBeGreaterThan(20);
    expect(await stopDetour(a)).toBe(0);
    expect(await stopDetour(b)).toBe(0);
    for (const instance of [a, b]) expect(instance.output).toContain('draining');
    const loggedA = loggedIds(a.logPath);
    const loggedB = loggedIds(b.logPath);
    // Both served before and after their restarts, and every answered request is in one of the two logs, once.
    expect(loggedA.length).toBeGreaterThan(10);
    expect(loggedB.length).toBeGreaterThan(10);
    console.log(`rolling restart through haproxy: ${sent.length} requests (${sent.filter((entry) => entry.stream).length} streamed), ${failures.length} failed; logged by A ${loggedA.length}, by B ${loggedB.length}`);
    const logged = [...loggedA, ...loggedB].sort();
    expect(logged).toEqual(sent.map((entry) => entry.id).sort());
  }, 240_000);
});
