import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '../../src/config/load.js';
import { providerTypes } from '../../src/providers/registry.js';
import { startGatewayServer } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, openAiClient, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function yaml(primary: Simulator, backup: Simulator, extra = ''): string {
  return `server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 2000 }
log: { enabled: false }
breaker: { failure_threshold: 2, window_ms: 60000, minimum_requests: 100, open_ms: 600000, max_open_ms: 600000 }
providers:
  primary: { type: openai, base_url: ${primary.url}/v1, api_key: sk-primary-key-000001 }
  backup: { type: openai, base_url: ${backup.url}/v1, api_key: sk-backup-key-0000001 }
models:
  chat:
    targets: [{ provider: primary, model: m }, { provider: backup, model: m }]
    retry: { attempts: 1 }
${extra}`;
}

async function setup() {
  const primary = cleanup.add(await startSim({ answer: { text: 'from primary' } }));
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  const folder = mkdtempSync(join(tmpdir(), 'detour-reload-'));
  cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
  const path = join(folder, 'detour.yaml');
  writeFileSync(path, yaml(primary, backup));
  const load = () => loadConfigFile(path, { providerTypes: providerTypes(), env: {} });
  const gateway = cleanup.add(await startGatewayServer(load(), { reloadConfig: load }));
  return { primary, backup, path, load, gateway, client: await openAiClient(gateway.url) };
}

/** Sends requests back to back from `workers` clients until `stop` resolves; returns every outcome. */
async function underLoad(client: Awaited<ReturnType<typeof openAiClient>>, stop: Promise<unknown>, model = 'chat'): Promise<{ ok: number; failed: unknown[] }> {
  let isDone = false;
  void stop.then(() => (isDone = true));
  const failed: unknown[] = [];
  let ok = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!isDone) {
        try {
          await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] });
          ok++;
        } catch (error) {
          failed.push(error);
        }
      }
    }),
  );
  return { ok, failed };
}

describe('config reload', () => {
  it('a valid config is swapped in under load: no request fails, the new route serves, an unchanged target keeps its open circuit', async () => {
    const { primary, backup, path, gateway, client } = await setup();
    // Open the primary's circuit first: two failures.
    primary.setPlan({ faults: [{ status: 503 }] });
    for (let index = 0; index < 2; index++) await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    expect(gateway.engine.targets().find((target) => target.id.startsWith('primary/'))?.circuit).toBe('open');
    const primaryCalls = primary.stats.requests;
    writeFileSync(path, yaml(primary, backup, `  fast:\n    targets: [{ provider: backup, model: m }]\n`));
    const reloaded = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const outcome = await gateway.reload?.();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return outcome;
    })();
    const load = await underLoad(client, reloaded);
    const outcome = await reloaded;
    expect(outcome).toMatchObject({ ok: true, changedTargets: [], restartRequired: [] });
    expect(load.failed).toEqual([]);
    expect(load.ok).toBeGreaterThan(0);
    // The circuit opened before the reload is still open: the primary gets nothing.
    expect(gateway.engine.targets().find((target) => target.id.startsWith('primary/'))?.circuit).toBe('open');
    expect(primary.stats.requests).toBe(primaryCalls);
    const fast = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] });
    expect(fast.choices[0]?.message.content).toBe('from backup');
    const models = await (await fetch(`${gateway.url}/v1/models`)).json() as { data: Array<{ id: string }> };
    expect(models.data.map((model) => model.id)).toContain('fast');
  });

  it('an unchanged target keeps its health and statistics across a reload, as its circuit', async () => {
    const { backup, primary, path, gateway, client } = await setup();
    primary.setPlan({ faults: [{ status: 503 }] });
    for (let index = 0; index < 4; index++) await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    const primaryBefore = gateway.engine.targets().find((target) => target.id.startsWith('primary/'));
    expect(primaryBefore?.successRate).toBeLessThan(1);
    const before = gateway.engine.targets().find((target) => target.id.startsWith('backup/'));
    expect(before?.successRate).toBe(1);
    expect(before?.latencyMs).toBeGreaterThan(0);
    writeFileSync(path, yaml(primary, backup, `  fast:\n    targets: [{ provider: backup, model: m }]\n`));
    expect(await gateway.reload?.()).toMatchObject({ ok: true, changedTargets: [] });
    const after = gateway.engine.targets().find((target) => target.id.startsWith('backup/'));
    expect({ latencyMs: after?.latencyMs, successRate: after?.successRate, health: after?.health }).toEqual({ latencyMs: before?.latencyMs, successRate: before?.successRate, health: before?.health });
    expect(gateway.engine.targets().find((target) => target.id.startsWith('primary/'))?.successRate).toBe(primaryBefore?.successRate);
  });

  it('a target whose upstream changed starts afresh', async () => {
    const { primary, backup, path, gateway, client } = await setup();
    primary.setPlan({ faults: [{ status: 503 }] });
    for (let index = 0; index < 2; index++) await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    writeFileSync(path, yaml(primary, backup).replace('sk-primary-key-000001', 'sk-primary-key-rotated'));
    const outcome = await gateway.reload?.();
    expect(outcome).toMatchObject({ ok: true, changedTargets: ['primary/m'] });
    expect(gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit).toBe('closed');
  });

  it('an invalid config is refused under load with the errors `detour check` prints, logged and counted; the old config stays', async () => {
    const { primary, backup, path, load, gateway, client } = await setup();
    writeFileSync(path, yaml(primary, backup).replace('{ provider: backup, model: m }', '{ provider: bakup, model: m }'));
    let expected: readonly string[] = [];
    try {
      load();
    } catch (error) {
      expected = (error as ConfigError).problems;
    }
    expect(expected.join('\n')).toContain('unknown provider "bakup"');
    const reloaded = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return gateway.reload?.();
    })();
    const traffic = await underLoad(client, reloaded);
    expect(await reloaded).toEqual({ ok: false, problems: expected });
    expect(traffic.failed).toEqual([]);
    const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    expect(answer.choices[0]?.message.content).toBe('from primary');
    // Through the admin API too: a 400 with the same problems, and both counted.
    const response = await fetch(`${gateway.url}/admin/api/reload`, { method: 'POST' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { problems: string[] }).problems).toEqual(expected);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('detour_config_reloads_total{result="failure"} 2');
    writeFileSync(path, yaml(primary, backup));
    const fixed = await fetch(`${gateway.url}/admin/api/reload`, { method: 'POST' });
    expect(fixed.status).toBe(200);
    expect(await (await fetch(`${gateway.url}/metrics`)).text()).toContain('detour_config_reloads_total{result="success"} 1');
  });
});
