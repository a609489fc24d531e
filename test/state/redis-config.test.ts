import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { toStateSettings } from '../../src/config/state-schema.js';
import { providerTypes } from '../../src/providers/registry.js';

const base = {
  providers: { sim: { type: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-test' } },
  models: { chat: { targets: [{ provider: 'sim', model: 'm' }] } },
};
const load = (state: unknown) => validateConfig({ ...base, state }, { providerTypes: providerTypes(), env: {} });
const problemsOf = (state: unknown): readonly string[] => {
  try {
    load(state);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('state config', () => {
  it('keeps state in memory unless told otherwise', () => {
    const config = validateConfig(base, { providerTypes: providerTypes(), env: {} });
    expect(config.state.store).toBe('memory');
    expect(toStateSettings(config.state)).toEqual({ store: 'memory' });
  });

  it('selects Redis with the issue’s three keys and fills in the timeouts', () => {
    const config = load({ store: 'redis', url: 'redis://127.0.0.1:6379', prefix: 'detour:' });
    expect(toStateSettings(config.state)).toEqual({
      store: 'redis',
      connection: { kind: 'standalone', url: 'redis://127.0.0.1:6379' },
      prefix: 'detour:',
      commandTimeoutMs: 250,
      connectTimeoutMs: 2_000,
    });
  });

  it('maps Sentinel and Cluster onto their connections', () => {
    const sentinel = load({ store: 'redis', url: 'redis://:secret@master/2', sentinel: { master: 'mymaster', nodes: ['10.0.0.1:26379', '[::1]:26380'], password: 'sentinel-secret' } });
    expect(toStateSettings(sentinel.state)).toMatchObject({
      connection: { kind: 'sentinel', url: 'redis://:secret@master/2', masterName: 'mymaster', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '::1', port: 26380 }], sentinelPassword: 'sentinel-secret' },
    });
    const cluster = load({ store: 'redis', cluster: { nodes: ['redis-0.redis:7000'] }, command_timeout_ms: 100 });
    expect(toStateSettings(cluster.state)).toMatchObject({ connection: { kind: 'cluster', url: 'redis://127.0.0.1:6379', nodes: [{ host: 'redis-0.redis', port: 7000 }] }, commandTimeoutMs: 100 });
  });

  it('names the path and what was expected', () => {
    expect(problemsOf({ store: 'redis', url: 'http://127.0.0.1:6379' })).toEqual([expect.stringContaining('state.url: expected a redis:// or rediss:// URL')]);
    expect(problemsOf({ store: 'redis', sentinel: { master: 'm', nodes: ['10.0.0.1'] } })).toEqual([expect.stringContaining('state.sentinel.nodes[0]: expected host:port')]);
    expect(problemsOf({ store: 'redis', sentinel: { master: 'm', nodes: ['a:1'] }, cluster: { nodes: ['b:2'] } })).toEqual([expect.stringContaining('state.cluster: give sentinel or cluster, not both')]);
    expect(problemsOf({ store: 'postgres' })).toEqual([expect.stringContaining('state.store')]);
    expect(problemsOf({ store: 'redis', command_timeout_ms: 0 })).toEqual([expect.stringContaining('state.command_timeout_ms')]);
  });
});
