import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { toRuntimeSettings } from '../../src/config/runtime.js';

const types = ['openai', 'anthropic', 'gemini', 'azure-openai'];

function problemsOf(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    parseConfigText(text, { providerTypes: types, env, fileName: 'detour.yaml' });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config loading', () => {
  it('reads the documented contract and fills defaults', () => {
    const config = parseConfigText(
      `
server: { host: 0.0.0.0, port: 9000 }
defaults: { timeout_ms: 30000 }
providers:
  primary: { type: openai, base_url: https://api.openai.com/v1, api_key: '\${KEY}' }
  backup: { type: openai, base_url: "http://127.0.0.1:9002/v1", api_keys: [k1, k2] }
models:
  chat:
    targets:
      - { provider: primary, model: gpt-4o-mini }
      - { provider: backup, model: gpt-4o-mini }
    retry: { attempts: 3, backoff_ms: 100, max_backoff_ms: 800 }
    attempt_timeout_ms: 20000
    first_token_timeout_ms: 10000
  fast:
    targets: [ { provider: backup, model: small } ]
`,
      { providerTypes: types, env: { KEY: 'sk-env' } },
    );
    const settings = toRuntimeSettings(config);
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 9000, max_body_bytes: 10 * 1024 * 1024 });
    expect(settings.providers.map((provider) => [provider.name, provider.apiKeys])).toEqual([
      ['primary', ['sk-env']],
      ['backup', ['k1', 'k2']],
    ]);
    const [chat, fast] = settings.routes;
    expect(chat).toMatchObject({ retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 800 }, timeoutMs: 30000, attemptTimeoutMs: 20000, firstTokenTimeoutMs: 10000 });
    expect(fast).toMatchObject({ retry: { attempts: 2, backoffMs: 200, maxBackoffMs: 5000 }, timeoutMs: 30000 });
    expect(Object.isFrozen(config.providers)).toBe(true);
  });

  it('supports ${VAR:-fallback}', () => {
    expect(problemsOf(`providers: { p: { type: openai, base_url: '\${URL:-http://127.0.0.1:1/v1}' } }\nmodels: { m: { targets: [ { provider: p, model: x } ] } }`)).toEqual([]);
  });

  it.each([
    ['an unknown provider in a target', `providers: { a: { type: openai, base_url: http://x.test/v1 } }\nmodels:\n  chat:\n    targets:\n      - { provider: a, model: m }\n      - { provider: opena1, model: m }`, 'models.chat.targets[1].provider: unknown provider "opena1" (known: a) (detour.yaml:6)'],
    ['an unknown provider type', `providers: { a: { type: openia, base_url: http://x.test/v1 } }\nmodels: { chat: { targets: [ { provider: a, model: m } ] } }`, 'providers.a.type: unknown provider type "openia"'],
    ['a missing environment variable', `providers: { a: { type: openai, base_url: http://x.test/v1, api_key: '\${NOPE}' } }\nmodels: { chat: { targets: [ { provider: a, model: m } ] } }`, 'providers.a.api_key: environment variable NOPE is not set'],
    ['a route without targets', `providers: { a: { type: openai, base_url: http://x.test/v1 } }\nmodels: { chat: { targets: [] } }`, 'models.chat.targets: a route needs at least one target'],
    ['a misspelt key', `providers: { a: { type: openai, base_url: http://x.test/v1 } }\nmodels: { chat: { targets: [ { provider: a, model: m } ], timeout: 5 } }`, 'models.chat: unknown key "timeout"'],
    ['a negative timeout', `providers: { a: { type: openai, base_url: http://x.test/v1 } }\nmodels: { chat: { targets: [ { provider: a, model: m } ], timeout_ms: -5 } }`, 'models.chat.timeout_ms:'],
    ['both api_key and api_keys', `providers: { a: { type: openai, base_url: http://x.test/v1, api_key: k, api_keys: [k] } }\nmodels: { chat: { targets: [ { provider: a, model: m } ] } }`, 'providers.a.api_keys: give either api_key or api_keys, not both'],
    ['broken YAML', `providers: { a: [ }`, 'detour.yaml:1: YAML syntax:'],
  ])('explains %s with its path', (_name, text, expected) => {
    const problems = problemsOf(text);
    expect(problems.some((problem) => problem.startsWith(expected) || problem.includes(expected))).toBe(true);
  });
});
