import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { providerTypes } from '../../src/providers/registry.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

function check(text: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'detour-check-')), 'detour.yaml');
  writeFileSync(path, text);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'check', '--config', path]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every problem `detour check` would print for a config text. */
function problemsOf(text: string): readonly string[] {
  try {
    parseConfigText(text, { providerTypes: providerTypes(), env: {}, fileName: 'detour.yaml' });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const providers = `
providers:
  openai: { type: openai, base_url: http://127.0.0.1:9001/v1, api_key: sk-a }
  azure: { type: azure-openai, base_url: http://127.0.0.1:9002, api_key: az-b }
  gemini: { type: gemini, base_url: http://127.0.0.1:9003, api_key: g-c }
  claude: { type: anthropic, base_url: http://127.0.0.1:9004, api_key: c-d }
`;

describe('detour check on embeddings routes', () => {
  it('refuses a route that mixes embedding models or dimensions, naming the path and line', async () => {
    const result = await check(`${providers}
models:
  embed:
    kind: embeddings
    targets:
      - { provider: openai, model: text-embedding-3-small, dimensions: 512 }
      - { provider: openai, model: text-embedding-3-large, dimensions: 512 }
      - { provider: azure, model: my-deployment, embedding_model: text-embedding-3-small, dimensions: 256 }
`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/models\.embed\.targets\[1\]\.model: an embeddings route cannot mix models \("text-embedding-3-small" and "text-embedding-3-large"\).*\(.*detour\.yaml:13\)/);
    expect(result.stderr).toMatch(/models\.embed\.targets\[2\]\.dimensions: an embeddings route cannot mix dimensions \(512 and 256\).*\(.*detour\.yaml:14\)/);
    // The Azure deployment names its model: it is not a third model.
    expect(result.stderr).not.toContain('targets[2].model');
  });

  it('accepts one model from several providers, keys and regions, and says the route is an embeddings one', async () => {
    const result = await check(`${providers}
models:
  embed:
    kind: embeddings
    targets:
      - { provider: openai, model: text-embedding-3-small, dimensions: 512 }
      - { provider: azure, model: emb-eastus, embedding_model: text-embedding-3-small, dimensions: 512 }
`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('embed (embeddings): openai/text-embedding-3-small → azure/emb-eastus');
  });

  it.each([
    ['an Azure deployment that does not name its model', '- { provider: openai, model: text-embedding-3-small }\n      - { provider: azure, model: emb-eastus }', /targets\[1\]\.model: an embeddings route cannot mix models .*embedding_model/],
    ['a provider type without embeddings', '- { provider: claude, model: claude-haiku-4-5 }', /targets\[0\]\.provider: providers of type anthropic serve no embeddings/],
    ['a mirror', '- { provider: openai, model: text-embedding-3-small }\n    mirror: { provider: openai, model: text-embedding-3-small, sample_rate: 0.1 }', /models\.embed\.mirror: an embeddings route has no mirror/],
    ['degrading to another model', "- { provider: openai, model: text-embedding-3-small }\n    degrade_to: other", /models\.embed\.degrade_to: an embeddings route degrades only to an embeddings route of the same model and dimensions/],
  ])('refuses %s', (_name, targets, message) => {
    const problems = problemsOf(`${providers}
models:
  embed:
    kind: embeddings
    targets:
      ${targets}
  other:
    kind: embeddings
    targets: [ { provider: gemini, model: gemini-embedding-001 } ]
`);
    expect(problems.some((problem) => message.test(problem))).toBe(true);
  });

  it('treats Gemini model names with and without models/ as one, and keeps embeddings settings off chat routes', () => {
    expect(problemsOf(`${providers}
models:
  embed:
    kind: embeddings
    targets:
      - { provider: gemini, model: gemini-embedding-001 }
      - { provider: gemini, model: models/gemini-embedding-001 }
`)).toEqual([]);
    const problems = problemsOf(`${providers}
models:
  embed:
    kind: embeddings
    targets: [ { provider: openai, model: text-embedding-3-small } ]
  chat:
    targets: [ { provider: openai, model: gpt-4o-mini, dimensions: 256 } ]
    degrade_to: embed
`);
    expect(problems).toEqual([
      expect.stringMatching(/^models\.chat\.degrade_to: a chat route cannot degrade to the embeddings route "embed"/),
      expect.stringMatching(/^models\.chat\.targets\[0\]\.dimensions: dimensions is for routes of kind: embeddings/),
    ]);
  });
});
