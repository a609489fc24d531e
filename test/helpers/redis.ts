import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describeWithService } from './describe-with-service.js';

/** The `redis-server` binary on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const missingReason = 'redis-server is not on PATH (apt install redis-server, brew install redis)';

/**
 * `describe` for suites that need a real Redis: skipped, saying why, when `redis-server` is not on
 * PATH — except in CI (`CI` set), where a missing binary is a failure, since CI installs it.
 */
export function describeWithRedis(name: string, body: () => void): void {
  describeWithService(name, body, { isInstalled: findRedisServer() !== undefined, missingReason });
}

/** Binds `port` (0: any) on loopback and releases it; resolves with the port, or undefined when it is taken. */
async function tryPort(port: number): Promise<number | undefined> {
  const server = createServer();
  const isBound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!isBound) return undefined;
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address !== null && typeof address !== 'string' ? address.port : undefined;
}

/** The kernel's range of ports for outgoing connections (Linux), or undefined elsewhere. */
function ephemeralRange(): [number, number] | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && low > 0 ? [low, high] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A loopback port free right now. A server that is killed and restarted on its port needs one
 * below the kernel's ephemeral range: while it is down, clients reconnecting to it (or any
 * outgoing connection) could otherwise be handed that very port as their own, and Linux even
 * connects a socket to itself when it dials a free port of the range. Port 0 otherwise.
 */
export async function freePort(): Promise<number> {
  const range = ephemeralRange();
  if (range && range[0] > 11_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await tryPort(10_000 + Math.floor(Math.random() * (range[0] - 11_000)));
      if (port !== undefined) return port;
    }
  }
  const port = await tryPort(0);
  if (port === undefined) throw new Error('no free loopback port');
  return port;
}

const running = new Set<ChildProcess>();
// A test run that dies must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A `redis-server` of its own on an ephemeral loopback port, without persistence: a restart
 * starts empty, as a crashed cache would. `kill` and `start` again on the same port play an
 * outage; `pause` and `resume` (SIGSTOP, SIGCONT) play a Redis that hangs.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly binary: string,
  ) {}

  static async start(): Promise<RedisServer> {
    const binary = findRedisServer();
    if (binary === undefined) throw new Error(missingReason);
    let lastError: unknown;
    // Another process may take the port between its release and redis-server's bind: try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new RedisServer(await freePort(), binary);
      try {
        await server.start();
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server (again) on its port and resolves once it accepts connections. */
  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (error) {
        // A restart may find its port briefly held by a connection still closing: try again.
        if (attempt >= 10 || !(error instanceof Error) || !error.message.includes('Address already in use')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private async startOnce(): Promise<void> {
    if (this.child) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'notice'];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output.slice(-1000)}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output.slice(-1000)}`));
      });
    });
    child.once('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    try {
      await ready;
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** SIGKILL: the server is gone at once, as in a crash. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** SIGTERM, then SIGKILL if it lingers. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await this.signalAndWait('SIGTERM');
    clearTimeout(timer);
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // A paused process does not act on SIGTERM until it runs again.
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }
}

/** Polls `condition` every 10 ms for at most `timeoutMs`; resolves with whether it came true. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
