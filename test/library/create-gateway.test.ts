import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile, validateConfig } from '../../src/config/load.js';
import { ConfigError, createGateway, type GatewayConfig } from '../../src/index.js';
import { providerTypes } from '../../src/providers/registry.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { addedResources, waitFor } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };

/** A config typed as library users write it: the public `GatewayConfig` checks its shape. */
function simConfig(sim: Simulator): GatewayConfig {
  return { providers: { sim: { type: 'openai', base_url: `${sim.url}/v1`, api_key: 'sk-test' } }, models: { chat: { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } } };
}

function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'detour-library-')), 'detour.yaml');
  writeFileSync(path, text);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('createGateway: the server’s config, the server’s errors', () => {
  it('runs from a YAML file, with ${ENV} interpolated', async () => {
    const sim = cleanup.add(await startSim());
    const path = writeConfig(`providers:\n  sim:\n    type: openai\n    base_url: \${SIM_URL}/v1\n    api_key: \${SIM_KEY}\nmodels:\n  chat:\n    targets:\n      - provider: sim\n        model: gpt-4o-mini\n`);
    const gateway = cleanup.add(await createGateway(path, { env: { SIM_URL: sim.url, SIM_KEY: 'sk-from-env' } }));
    const { served } = await gateway.chat(ask);
    expect(served.target).toBe('sim/gpt-4o-mini');
    expect(gateway.config.providers.sim?.api_key).toBe('sk-from-env');
    expect(Object.isFrozen(gateway.config)).toBe(true);
  });

  it('refuses a bad file with the same problems, and lines, as the server', async () => {
    const path = writeConfig('providers:\n  sim:\n    type: openia\n    base_url: http://127.0.0.1:1/v1\nmodels:\n  chat:\n    targets:\n      - provider: simm\n        model: m\n');
    const error = await rejection(createGateway(path, { env: {} }));
    const expected = (() => {
      try {
        loadConfigFile(path, { providerTypes: providerTypes(), env: {} });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected the file to be refused');
    })();
    expect(error.problems).toEqual(expected.problems);
    expect(error.problems.join('\n')).toMatch(/providers\.sim\.type: unknown provider type "openia".*detour\.yaml:3/);
    expect(error.problems.join('\n')).toMatch(/models\.chat\.targets\[0\]\.provider: unknown provider "simm"/);
  });

  it('refuses a bad object with the same problems as validateConfig', async () => {
    const config = { providers: { sim: { type: 'openai', base_url: 'not a url', api_key: '${MISSING}' } }, models: { chat: { targets: [] } } };
    const error = await rejection(createGateway(config as unknown as GatewayConfig, { env: {} }));
    expect(() => validateConfig(config, { providerTypes: providerTypes(), env: {} })).toThrow(error.message);
    expect(error.problems.join('\n')).toMatch(/environment variable MISSING is not set/);
    expect(error.problems.join('\n')).toMatch(/a route needs at least one target/);
  });

  it('refuses a missing file', async () => {
    const error = await rejection(createGateway('/nonexistent/detour.yaml'));
    expect(error.problems[0]).toMatch(/cannot read \/nonexistent\/detour\.yaml/);
  });
});

describe('the gateway’s lifetime', () => {
  it('holds no socket or timer once closed, so the process can exit', async () => {
    const sim = cleanup.add(await startSim());
    const before = process.getActiveResourcesInfo();
    const gateway = await createGateway(simConfig(sim), { env: {} });
    await gateway.chat(ask);
    for await (const _chunk of await gateway.chatStream(ask));
    expect(addedResources(before)).toContain('TCPSocketWrap');
    await gateway.close();
    await waitFor(() => addedResources(before).length === 0);
    expect(addedResources(before)).toEqual([]);
  });

  it('offers metrics only when observability is asked for', async () => {
    const sim = cleanup.add(await startSim());
    const config = simConfig(sim);
    const plain = cleanup.add(await createGateway(config, { env: {} }));
    await expect(plain.metrics()).rejects.toThrow(/observability: true/);
    const observed = cleanup.add(await createGateway({ ...config, log: { enabled: false } }, { env: {}, observability: true }));
    await observed.chat(ask);
    // Outcomes are counted off the request path, on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await observed.metrics()).toMatch(/detour_upstream_attempts_total\{[^}]*provider="sim"/);
  });
});
