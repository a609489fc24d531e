import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './redis.js';
import { describeWithService } from './describe-with-service.js';

/** The newest installed PostgreSQL's binaries (Debian puts them in /usr/lib/postgresql/<version>/bin, not on PATH). */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'postgres')) && existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

const missingReason = 'PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres; apt install postgresql)';

/** `describe` for suites that need a real PostgreSQL: skipped, saying why, when it is not installed, except in CI, which installs it. */
export function describeWithPostgres(name: string, body: () => void): void {
  describeWithService(name, body, { isInstalled: findPostgresBin() !== undefined, missingReason });
}

const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

const running = new Set<number>();
// A test run that dies must not leave a server behind.
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * A PostgreSQL server of its own: a fresh cluster in a temporary folder, on a loopback port, with
 * password authentication over TCP (user `detour`). `stop()` and `start()` again on the same
 * port and data play an outage.
 */
export class PostgresServer {
  static readonly user = 'detour';
  static readonly password = 'pg-Secret-Pass-7731';
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    private readonly bin: string,
    private readonly folder: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PostgresServer> {
    const bin = findPostgresBin();
    if (bin === undefined) throw new Error(missingReason);
    const folder = mkdtempSync(join(tmpdir(), 'detour-pg-'));
    const passwordFile = join(folder, 'password');
    writeFileSync(passwordFile, `${PostgresServer.password}\n`);
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(folder, uid, gid);
      chownSync(passwordFile, uid, gid);
    }
    const [command, args] = asPostgres(join(bin, 'initdb'), [
      '-D', join(folder, 'data'), '-U', PostgresServer.user, `--pwfile=${passwordFile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--no-sync',
    ]);
    execFileSync(command, args, { stdio: 'pipe' });
    const server = new PostgresServer(bin, folder, await freePort());
    await server.start();
    return server;
  }

  /** The URL of database `name`, with the password in it. */
  url(database = 'postgres'): string {
    return `postgres://${PostgresServer.user}:${PostgresServer.password}@127.0.0.1:${this.port}/${database}`;
  }

  /** A new, empty database. */
  async createDatabase(name: string): Promise<string> {
    await this.sql(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  /** Runs `text` in `database` and returns its rows. */
  async sql<Row extends Record<string, unknown>>(text: string, database = 'postgres', values: unknown[] = []): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    // A server stopped by the test while this client is open fails its query; the event is not a crash.
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<Row>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Starts the server (again) and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.child) return;
    const [command, args] = asPostgres(join(this.bin, 'postgres'), [
      '-D', join(this.folder, 'data'), '-p', String(this.port), '-k', this.folder,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=50', '-c', 'shared_buffers=16MB',
    ]);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    for (let waited = 0; ; waited += 100) {
      if (this.child !== child) throw new Error(`postgres exited:\n${this.output}`);
      if (this.output.includes('ready to accept connections')) break;
      if (waited > 30_000) throw new Error(`postgres did not start within 30 s:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const pid = this.postmasterPid();
    if (pid !== undefined) running.add(pid);
  }

  /** A fast shutdown: clients are disconnected, the server is gone until `start()`. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = this.postmasterPid();
    // The postmaster itself: a root test's child is runuser, which need not forward signals.
    if (pid !== undefined) process.kill(pid, 'SIGINT');
    else child.kill('SIGINT');
    const timer = setTimeout(() => (pid !== undefined ? process.kill(pid, 'SIGKILL') : child.kill('SIGKILL')), 15_000);
    await exited;
    clearTimeout(timer);
    if (pid !== undefined) running.delete(pid);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.folder, { recursive: true, force: true });
  }

  private postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.folder, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}
