import { describe, expect, it } from 'vitest';
import { canonicalToOpenAiBody } from '../../src/providers/openai/request.js';
import type { ChatRequest } from '../../src/providers/types.js';
import { makeTarget } from './cases/types.js';

/** What a Claude Code request with thinking on becomes once translated: a reasoning effort and max_tokens. */
const translated: ChatRequest = { model: 'chat', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 512, reasoning_effort: 'low' };
const bodyFor = (model: string) => canonicalToOpenAiBody(translated, makeTarget('openai', 'https://api.openai.com/v1', model, 'sk-test'));

describe('a translated request to OpenAI model families', () => {
  it.each(['o3', 'o4-mini', 'gpt-5', 'gpt-5-mini-2025-08-07', 'openai/o3-mini'])('%s takes the effort, and max_completion_tokens instead of max_tokens it would refuse', (model) => {
    const body = bodyFor(model);
    expect(body).toMatchObject({ reasoning_effort: 'low', max_completion_tokens: 512 });
    expect(body).not.toHaveProperty('max_tokens');
  });

  it.each(['gpt-4o-mini', 'gpt-4.1', 'gpt-3.5-turbo', 'openai/gpt-4o'])('%s gets no reasoning effort, which it would refuse with a 400', (model) => {
    const body = bodyFor(model);
    expect(body).not.toHaveProperty('reasoning_effort');
    expect(body).toMatchObject({ max_tokens: 512 });
  });

  it.each(['mistral-large-latest', 'deepseek-reasoner', 'my-azure-deployment'])('%s (not an OpenAI family) gets the fields as they are', (model) => {
    expect(bodyFor(model)).toMatchObject({ reasoning_effort: 'low', max_tokens: 512 });
  });
});
