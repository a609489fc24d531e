import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const claude = new URL('../../node_modules/.bin/claude', import.meta.url).pathname;
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function run(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(claude, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Claude Code in a home of its own, pointed at Detour, every background call to Anthropic's services off. */
async function claudeEnv(gatewayUrl: string): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  const home = await mkdtemp(join(tmpdir(), 'detour-claude-'));
  cleanup.add({ close: () => rm(home, { recursive: true, force: true }) });
  return {
    home,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      CLAUDE_CONFIG_DIR: join(home, '.claude'),
      ANTHROPIC_BASE_URL: gatewayUrl,
      ANTHROPIC_API_KEY: 'sk-ant-detour-test-0001',
      ANTHROPIC_MODEL: 'chat',
      ANTHROPIC_SMALL_FAST_MODEL: 'chat',
      ANTHROPIC_DEFAULT_HAIKU_MODEL: 'chat',
      ANTHROPIC_DEFAULT_SONNET_MODEL: 'chat',
      ANTHROPIC_DEFAULT_OPUS_MODEL: 'chat',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_BUG_COMMAND: '1',
      CLAUDE_CODE_SKIP_ONBOARDING: '1',
      IS_SANDBOX: '1',
    },
  };
}

async function claudeThrough(provider: (sim: Simulator) => Record<string, unknown>) {
  const sim = cleanup.add(await startSim({ capture: 50 }));
  const gateway = cleanup.add(await startGateway({ providers: { up: provider(sim) }, models: { chat: { targets: [{ provider: 'up', model: 'model-a' }] } } }));
  const { home, env } = await claudeEnv(gateway.url);
  const result = await run(['-p', 'Say hello', '--output-format', 'json'], { cwd: home, env, timeoutMs: 150_000 });
  return { sim, result };
}

describe('Claude Code through Detour', () => {
  it('claude -p with its default tools completes against an Anthropic-format upstream, its betas passed through', async () => {
    const { sim, result } = await claudeThrough((sim) => anthropicProvider(sim.url));
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    const answer = JSON.parse(result.stdout) as { is_error: boolean; result: string };
    expect(answer.is_error).toBe(false);
    expect(answer.result.length).toBeGreaterThan(0);
    const messages = sim.captured.filter((request) => request.path === '/v1/messages');
    expect(messages.length).toBeGreaterThan(0);
    // The capture: Claude Code's anthropic-beta list and ?beta=true reached the Anthropic upstream.
    const first = messages[0]!;
    // Detour adds no beta of its own: Claude Code's own (claude-code-YYYYMMDD, context-management-…) are the ones it sent.
    for (const request of messages) {
      expect(String(request.headers['anthropic-beta'] ?? '')).toMatch(/(^|,)claude-code-\d{8}(,|$)/);
      expect(request.headers['anthropic-version']).toBe('2023-06-01');
    }
    expect(first.query).toContain('beta=true');
    const body = JSON.parse(first.body) as { tools?: unknown[] };
    expect(body.tools?.length ?? 0).toBeGreaterThan(5);
  }, 180_000);

  it('claude -p with its default tools completes against an OpenAI-format upstream', async () => {
    const { sim, result } = await claudeThrough((sim) => openAiProvider(sim));
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    const answer = JSON.parse(result.stdout) as { is_error: boolean; result: string };
    expect(answer.is_error).toBe(false);
    const calls = sim.captured.filter((request) => request.path === '/v1/chat/completions');
    expect(calls.length).toBeGreaterThan(0);
    const body = JSON.parse(calls[0]!.body) as { tools?: unknown[] };
    expect(body.tools?.length ?? 0).toBeGreaterThan(5);
  }, 180_000);
});
