import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, startSim } from '../helpers/gateway.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const cleanup = new Cleanup();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await cleanup.run();
});

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'detour-cli-'));
  const path = join(dir, 'detour.yaml');
  writeFileSync(path, text);
  return path;
}

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `detour start` and resolves with its URL once it prints that it listens. */
function start(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own working directory: the default request log (./detour-requests.sqlite) is one instance's.
    const child = spawn(process.execPath, [cli, 'start', ...args], { env: { ...process.env, ...env }, cwd: mkdtempSync(join(tmpdir(), 'detour-cwd-')) });
    children.push(child);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('close', (code) => reject(new Error(`exited ${code}: ${stdout}`)));
  });
}

describe('detour CLI', () => {
  it('start serves a config file, with ${VAR} read from the environment', async () => {
    const sim = cleanup.add(await startSim());
    const config = writeConfig(`
server: { host: 127.0.0.1, port: 8787 }
providers:
  primary:
    type: openai
    base_url: ${sim.url}/v1
    api_key: \${SIM_KEY}
models:
  chat:
    targets:
      - { provider: primary, model: gpt-4o-mini }
`);
    const url = await start(['--config', config, '--port', '0', '--host', '127.0.0.1'], { SIM_KEY: 'sk-from-env-1234' });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = await openAiClient(url);
    const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toContain('Detour simulator');
    expect(sim.stats.countForKey('sk-from-env-1234')).toBe(1);
  });

  it('check explains every error with its path', async () => {
    const config = writeConfig(`
providers:
  primary: { type: openai, base_url: http://127.0.0.1:9001/v1, api_key: '\${MISSING_KEY_FOR_TEST}' }
  backup: { type: openia, base_url: not-a-url }
models:
  chat:
    targets:
      - { provider: primary, model: gpt-4o-mini }
      - { provider: opena1, model: gpt-4o-mini }
    retry: { attempts: 0 }
    timout_ms: 5
`);
    const result = await run(['check', '--config', config]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('models.chat.targets[1].provider: unknown provider "opena1"');
    expect(result.stderr).toContain('providers.primary.api_key: environment variable MISSING_KEY_FOR_TEST is not set');
    expect(result.stderr).toContain('providers.backup.base_url');
    expect(result.stderr).toContain('models.chat.retry.attempts');
    expect(result.stderr).toContain('models.chat: unknown key "timout_ms"');
    expect(result.stderr).toMatch(/detour\.yaml:\d+/);
  });

  it('check accepts a valid config and start refuses a bad one with a non-zero exit', async () => {
    const good = writeConfig(`
providers:
  primary: { type: openai, base_url: http://127.0.0.1:9001/v1, api_key: sk-x }
models:
  chat: { targets: [ { provider: primary, model: gpt-4o-mini } ] }
`);
    const checked = await run(['check', '--config', good]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain('is valid');
    const bad = writeConfig('providers: {}\nmodels:\n  chat: { targets: [] }\n');
    const started = await run(['start', '--config', bad, '--port', '0']);
    expect(started.code).not.toBe(0);
    expect(started.stderr).toContain('models.chat.targets');
  });
});
