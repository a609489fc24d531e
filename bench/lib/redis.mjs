// A redis-server of the bench's own for `--state redis`: from PATH, on a free loopback port,
// without persistence, stopped with the run (and killed if the bench dies).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedPort, sleep } from './processes.mjs';

export async function startRedisServer(directory, timeoutMs = 10_000) {
  const port = await closedPort();
  const logPath = join(directory, 'redis.log');
  const log = openSync(logPath, 'w');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory], { stdio: ['ignore', log, log] });
  closeSync(log);
  let exit;
  child.once('error', (error) => (exit = error.code === 'ENOENT' ? 'redis-server is not on PATH' : error.message));
  child.once('exit', (code) => (exit ??= `redis-server exited with ${code}`));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const startedAt = Date.now();
  while (Date.now() - startedAt < timeoutMs && exit === undefined) {
    if (readFileSync(logPath, 'utf8').includes('Ready to accept connections')) {
      return {
        url: `redis://127.0.0.1:${port}`,
        pid: child.pid,
        async stop() {
          process.off('exit', kill);
          if (exit !== undefined) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(40);
  }
  kill();
  throw new Error(`${exit ?? 'redis-server did not start in time'}:\n${readFileSync(logPath, 'utf8').slice(-1000)}`);
}
