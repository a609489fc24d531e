import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startSim } from '../helpers/gateway.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const cleanup = new Cleanup();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await cleanup.run();
});

interface Started {
  child: ChildProcess;
  stdout: string;
}

/** `detour start` until it listens (resolves) or exits (rejects with its output). */
function start(config: string, cwd: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'start', '--config', config, '--port', '0'], { cwd });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/request log: .+\n/.test(stdout)) resolve({ child, stdout });
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => reject(Object.assign(new Error(`exited ${code}`), { code, stdout, stderr })));
  });
}

function writeConfig(dir: string, simUrl: string, logLine: string): string {
  const path = join(dir, 'detour.yaml');
  writeFileSync(path, `providers:\n  primary: { type: openai, base_url: "${simUrl}/v1", api_key: sk-test }\nmodels:\n  chat:\n    targets: [{ provider: primary, model: gpt-4o-mini }]\n${logLine}`);
  return path;
}

describe('the request log of detour start', () => {
  it('is named at start-up, by default in the working directory', async () => {
    const sim = cleanup.add(await startSim());
    const dir = mkdtempSync(join(tmpdir(), 'detour-log-'));
    const started = await start(writeConfig(dir, sim.url, ''), dir);
    expect(started.stdout).toContain(`request log: ${join(dir, 'detour-requests.sqlite')}\n`);
  });

  it('refuses a second instance on the same file, naming the file and log.path', async () => {
    const sim = cleanup.add(await startSim());
    const dir = mkdtempSync(join(tmpdir(), 'detour-log-'));
    const logPath = join(dir, 'shared.sqlite');
    const config = writeConfig(dir, sim.url, `log: { path: "${logPath}" }\n`);
    const first = await start(config, dir);
    expect(first.stdout).toContain(`request log: ${logPath}`);
    const second = await start(config, dir).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(second).toBeDefined();
    expect(second?.code).not.toBe(0);
    expect(second?.stderr).toContain(logPath);
    expect(second?.stderr).toContain('log.path');
    // The first instance is untouched and still holds its lock.
    expect(first.child.exitCode).toBeNull();
    expect(existsSync(`${logPath}.lock`)).toBe(true);
  });

  it('takes over the lock of an instance that died without releasing it', async () => {
    const sim = cleanup.add(await startSim());
    const dir = mkdtempSync(join(tmpdir(), 'detour-log-'));
    const logPath = join(dir, 'crashed.sqlite');
    const config = writeConfig(dir, sim.url, `log: { path: "${logPath}" }\n`);
    const first = await start(config, dir);
    const exited = new Promise((resolve) => first.child.on('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    expect(existsSync(`${logPath}.lock`)).toBe(true);
    const next = await start(config, dir);
    expect(next.stdout).toContain(`request log: ${logPath}`);
  });

  it('releases the file on a clean stop, so the next instance starts', async () => {
    const sim = cleanup.add(await startSim());
    const dir = mkdtempSync(join(tmpdir(), 'detour-log-'));
    const logPath = join(dir, 'clean.sqlite');
    const config = writeConfig(dir, sim.url, `log: { path: "${logPath}" }\n`);
    const first = await start(config, dir);
    const exited = new Promise<number | null>((resolve) => first.child.on('exit', resolve));
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(`${logPath}.lock`)).toBe(false);
  });
});
