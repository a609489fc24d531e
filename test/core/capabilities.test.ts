import { describe, expect, it } from 'vitest';
import { filterByCapabilities, resolveCapabilities, type Capability, type RequestNeeds } from '../../src/core/capabilities.js';
import { ModelCatalog, type ModelCapabilities } from '../../src/core/model-catalog.js';

const catalog = new ModelCatalog();
const none: RequestNeeds = { vision: false, tools: false, json: false, inputTokens: 100 };

interface Candidate {
  id: string;
  model: string;
  declared?: Partial<ModelCapabilities>;
}

const candidates: Candidate[] = [
  { id: 'gpt-4o', model: 'gpt-4o-2024-08-06' },
  { id: 'gpt-3.5', model: 'gpt-3.5-turbo' },
  { id: 'o3-mini', model: 'o3-mini' },
  { id: 'local', model: 'llama-3-8b' },
  { id: 'local-small', model: 'llama-3-8b-small', declared: { vision: false, contextWindow: 8_192 } },
  { id: 'gpt-4o-no-tools', model: 'gpt-4o', declared: { tools: false } },
];

const capabilitiesOf = (candidate: Candidate): ModelCapabilities | undefined => resolveCapabilities(candidate.model, candidate.declared, catalog);

describe('filterByCapabilities', () => {
  const cases: Array<{ name: string; needs: RequestNeeds; skipped: Record<string, Capability[]> }> = [
    { name: 'a plain request goes anywhere', needs: none, skipped: {} },
    { name: 'images skip targets without vision', needs: { ...none, vision: true }, skipped: { 'gpt-3.5': ['vision'], 'o3-mini': ['vision'], 'local-small': ['vision'] } },
    { name: 'tools skip targets declared without them', needs: { ...none, tools: true }, skipped: { 'gpt-4o-no-tools': ['tools'] } },
    { name: 'a JSON response needs json', needs: { ...none, json: true }, skipped: {} },
    {
      name: 'a long prompt skips small context windows',
      needs: { ...none, inputTokens: 20_000 },
      skipped: { 'gpt-3.5': ['context_window'], 'local-small': ['context_window'] },
    },
    {
      name: 'every lack is reported',
      needs: { vision: true, tools: true, json: false, inputTokens: 150_000 },
      skipped: { 'gpt-4o': ['context_window'], 'gpt-3.5': ['vision', 'context_window'], 'o3-mini': ['vision'], 'local-small': ['vision', 'context_window'], 'gpt-4o-no-tools': ['tools', 'context_window'] },
    },
  ];
  it.each(cases)('$name', ({ needs, skipped }) => {
    const result = filterByCapabilities(candidates, needs, capabilitiesOf);
    expect(Object.fromEntries(result.skipped.map((entry) => [entry.candidate.id, entry.missing]))).toEqual(skipped);
    expect(result.eligible.map((candidate) => candidate.id)).toEqual(candidates.map((candidate) => candidate.id).filter((id) => !(id in skipped)));
  });
});

describe('resolveCapabilities', () => {
  it('takes the catalog’s entry by prefix', () => {
    expect(resolveCapabilities('gpt-3.5-turbo-0125', undefined, catalog)).toEqual({ vision: false, tools: true, json: true, contextWindow: 16_385 });
  });
  it('lets what the target declares win over the catalog', () => {
    expect(resolveCapabilities('gpt-4o', { contextWindow: 32_000 }, catalog)).toEqual({ vision: true, tools: true, json: true, contextWindow: 32_000 });
  });
  it('knows nothing of an unknown, undeclared model, which is then let through', () => {
    expect(resolveCapabilities('llama-3-8b', undefined, catalog)).toBeUndefined();
  });
  it('assumes what an unknown model does not declare', () => {
    expect(resolveCapabilities('llama-3-8b', { vision: false }, catalog)).toEqual({ vision: false, tools: true, json: true, contextWindow: Number.POSITIVE_INFINITY });
  });
});
