import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { loadConfigForDrill, toDrillConfig } from '../../src/drill/drill-config.js';

function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'detour-drill-config-')), 'detour.yaml');
  writeFileSync(path, text);
  return path;
}

const realConfig = `
providers:
  openai: { type: openai, base_url: 'https://api.openai.com/v1', api_keys: ['\${OPENAI_KEY_ONE}', '\${OPENAI_KEY_TWO}'] }
  azure: { type: azure-openai, base_url: '\${AZURE_ENDPOINT}', api_key: '\${AZURE_KEY}', api_version: 2024-10-21 }
  claude: { type: anthropic, base_url: 'https://api.anthropic.com', api_key: '\${ANTHROPIC_API_KEY}' }
  gemini: { type: gemini, base_url: 'https://generativelanguage.googleapis.com', api_key: '\${GEMINI_KEY:-g-fallback}' }
models:
  chat:
    targets:
      - { provider: openai, model: gpt-4o-mini }
      - { provider: azure, model: my-deployment }
      - { provider: claude, model: claude-sonnet-4-5, max_tokens: 1024 }
      - { provider: gemini, model: gemini-2.5-flash }
    slo: { success_rate: 0.995 }
alerts:
  sinks: [{ type: slack, url: 'https://hooks.slack.com/services/T000/B000/XXXX' }]
`;

describe('the drill`s config', () => {
  it('loads a config whose keys are not in the environment', () => {
    const config = loadConfigForDrill(writeConfig(realConfig), {});
    expect(Object.keys(config.providers)).toEqual(['openai', 'azure', 'claude', 'gemini']);
    // A `:-fallback` still applies; only variables without one get the placeholder.
    expect(config.providers.gemini?.api_key).toBe('g-fallback');
  });

  it('still reports what is really wrong with a config', () => {
    expect(() => loadConfigForDrill(writeConfig('providers: {}\nmodels: { chat: { targets: [{ provider: nope, model: m }] } }\n'), {})).toThrow(ConfigError);
  });

  it('points every provider at its simulator in its own wire format, with distinct fake keys, and reaches nothing outside', () => {
    const config = loadConfigForDrill(writeConfig(realConfig), {});
    const sims = new Map([
      ['openai', 'http://127.0.0.1:4001'],
      ['azure', 'http://127.0.0.1:4002'],
      ['claude', 'http://127.0.0.1:4003'],
      ['gemini', 'http://127.0.0.1:4004'],
    ]);
    const { config: drill, notes } = toDrillConfig(config, sims);
    expect(drill.providers.openai).toMatchObject({ type: 'openai', base_url: 'http://127.0.0.1:4001/v1' });
    expect(drill.providers.azure).toMatchObject({ type: 'openai', base_url: 'http://127.0.0.1:4002/v1' });
    expect(drill.providers.claude).toMatchObject({ type: 'anthropic', base_url: 'http://127.0.0.1:4003' });
    expect(drill.providers.gemini).toMatchObject({ type: 'gemini', base_url: 'http://127.0.0.1:4004/v1beta' });
    const keys = [...(drill.providers.openai?.api_keys ?? []).map((entry) => (typeof entry === 'string' ? entry : entry.key)), drill.providers.azure?.api_key, drill.providers.claude?.api_key, drill.providers.gemini?.api_key];
    expect(keys).toHaveLength(5);
    expect(new Set(keys.map((key) => key?.slice(-4))).size).toBe(5);
    for (const key of keys) expect(key).toMatch(/^sk-drill-/);
    expect(drill.server).toMatchObject({ host: '127.0.0.1', port: 0 });
    expect(drill.log.enabled).toBe(false);
    expect(drill.alerts.sinks).toEqual([]);
    expect(drill.models.chat?.slo?.success_rate).toBe(0.995);
    expect(notes.join('\n')).toMatch(/azure.*simulated as openai/);
    expect(notes.join('\n')).toMatch(/1 alert sink/);
    // The user's config is left as it was.
    expect(config.providers.openai?.base_url).toBe('https://api.openai.com/v1');
  });

  it('keeps a request log only when asked', () => {
    const config = loadConfigForDrill(writeConfig(realConfig), {});
    const sims = new Map(Object.keys(config.providers).map((name, index) => [name, `http://127.0.0.1:${4100 + index}`]));
    expect(toDrillConfig(config, sims, { requestLogPath: '/tmp/drill.sqlite' }).config.log).toMatchObject({ enabled: true, path: '/tmp/drill.sqlite' });
  });
});
