import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { toRuntimeSettings } from '../../src/config/runtime.js';

const types = ['openai', 'anthropic', 'gemini', 'azure-openai'];

function parse(text: string) {
  return parseConfigText(text, { providerTypes: types, env: {}, fileName: 'detour.yaml' });
}

function problemsOf(text: string): readonly string[] {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('capacity config: limits and queue', () => {
  it('maps provider and target limits and the route queue, with the queue defaults where none is given', () => {
    const settings = toRuntimeSettings(
      parse(`
providers:
  p: { type: openai, base_url: https://api.openai.com/v1, api_keys: [k1, k2], limits: { rpm: 500, tpm: 200000 } }
models:
  chat:
    targets:
      - { provider: p, model: a }
      - { provider: p, model: b, limits: { rpm: 100 } }
    queue: { max: 50, timeout_ms: 5000 }
  other:
    targets: [{ provider: p, model: a }]
`),
    );
    expect(settings.providers[0]?.limits).toEqual({ rpm: 500, tpm: 200_000 });
    const chat = settings.routes.find((route) => route.name === 'chat');
    expect(chat?.targets[1]?.limits).toEqual({ rpm: 100 });
    expect(chat?.queue).toEqual({ max: 50, timeoutMs: 5000 });
    expect(settings.routes.find((route) => route.name === 'other')?.queue).toEqual({ max: 1000, timeoutMs: 30_000 });
  });

  it('names every bad limit and queue setting with its path', () => {
    const problems = problemsOf(`
providers:
  p: { type: openai, base_url: https://api.openai.com/v1, api_key: k, limits: { rpm: 0, rps: 5 } }
models:
  chat:
    targets: [{ provider: p, model: a, limits: { tpm: -1 } }]
    queue: { max: -1, timeout_ms: 1.5, size: 3 }
`);
    const text = problems.join('\n');
    expect(text).toMatch(/providers\.p\.limits\.rpm/);
    expect(text).toMatch(/providers\.p\.limits.*rps/);
    expect(text).toMatch(/models\.chat\.targets\[0\]\.limits\.tpm/);
    expect(text).toMatch(/models\.chat\.queue\.max/);
    expect(text).toMatch(/models\.chat\.queue\.timeout_ms/);
    expect(text).toMatch(/models\.chat\.queue.*size/);
  });

  it('refuses one provider and model with different limits in two routes (one target, one set of counters), naming both places', () => {
    const problems = problemsOf(`
providers:
  p: { type: openai, base_url: https://api.openai.com/v1, api_key: k }
models:
  chat:
    targets: [{ provider: p, model: a }]
  slow:
    targets: [{ provider: p, model: a, limits: { rpm: 1 } }]
  same:
    targets: [{ provider: p, model: b, limits: { rpm: 5, tpm: 9 } }]
  again:
    targets: [{ provider: p, model: b, limits: { tpm: 9, rpm: 5 } }]
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^models\.slow\.targets\[0\]\.limits: p\/a has limits \{"rpm":1\} here but \(none\) at models\.chat\.targets\[0\].*\(detour\.yaml:\d+\)$/);
  });
});
