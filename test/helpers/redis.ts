import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'vitest';

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
  if (findRedisServer() !== undefined) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('needs redis-server', () => {
        throw new Error(`${missingReason}; CI must install it`);
      });
    });
  } else {
    describe.skip(`${name} — skipped: ${missingReason}`, body);
  }
}

/** A loopback port free right now (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
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
