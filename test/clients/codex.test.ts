import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

/** Runs a CLI with stdin closed (Codex reads a prompt from an open stdin) and collects its output. */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
const codex = new URL('../../node_modules/.bin/codex', import.meta.url).pathname;
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A Codex home of its own: only the Detour provider, the README's configuration. */
async function codexHome(baseUrl: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'detour-codex-'));
  cleanup.add({ close: () => rm(home, { recursive: true, force: true }) });
  const config = [
    'model = "chat"',
    'model_provider = "detour"',
    '',
    '[model_providers.detour]',
    'name = "Detour"',
    `base_url = "${baseUrl}/v1"`,
    'wire_api = "responses"',
    'env_key = "DETOUR_API_KEY"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
  ].join('\n');
  await writeFile(join(home, 'config.toml'), config);
  return home;
}

describe('Codex CLI through Detour', () => {
  it.each([
    ['a chat-completions upstream (translated)', 'chat', '/v1/chat/completions'],
    ['a Responses API upstream (passed through)', 'responses', '/v1/responses'],
  ])('codex exec completes a one-turn task, with its tool round trip, against %s', async (_name, api, upstreamPath) => {
    const sim = cleanup.add(await startSim({ capture: 20 }));
    const gateway = cleanup.add(await startGateway({ providers: { openai: { ...openAiProvider(sim), api } }, models: { chat: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } } }));
    const home = await codexHome(gateway.url);
    const { code, stdout, stderr } = await run(codex, ['exec', '--skip-git-repo-check', '--color', 'never', 'Say hello'], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', HOME: home, CODEX_HOME: home, DETOUR_API_KEY: 'detour-test-key', NO_COLOR: '1' },
      timeoutMs: 120_000,
    });
    const output = `${stdout}\n${stderr}`;
    expect(code, output).toBe(0);
    // The simulated model first calls Codex's first tool, then answers from its output.
    expect(output).toMatch(/The tool returned: |Hello from the Detour simulator/);
    expect(output).not.toMatch(/ERROR/);
    const upstreamCalls = sim.captured.filter((request) => request.path === upstreamPath);
    expect(upstreamCalls.length).toBeGreaterThanOrEqual(2);
    const last = JSON.parse(upstreamCalls.at(-1)?.body ?? '{}') as { messages?: Array<{ role: string }>; input?: Array<{ type?: string }> };
    // The second call carries the output of the tool Codex ran.
    if (api === 'chat') expect(last.messages?.at(-1)?.role).toBe('tool');
    else expect(last.input?.some((item) => item.type === 'function_call_output')).toBe(true);
  }, 150_000);
});
