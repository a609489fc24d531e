import type { ProviderSettings, Target } from '../../src/core/settings.js';
import type { SseEvent } from '../../src/providers/types.js';
import { projectFixtures } from './fixture-sets.js';

/** The project's own Anthropic answers (`test/fixtures/anthropic/`, see test/fixtures/README.md). */
export function fixtureJson(name: string): unknown {
  return projectFixtures.json(`anthropic/${name}`);
}

/** A `*.chunks.txt` file as the SSE events the API sends: `event:` equals the JSON's `type`. */
export function fixtureEvents(name: string): SseEvent[] {
  return projectFixtures.eventLines(`anthropic/${name}`).map((data) => sseEvent(data));
}

export function sseEvent(data: string): SseEvent {
  const type = (JSON.parse(data) as { type: string }).type;
  return { event: type, data, raw: `event: ${type}\ndata: ${data}` };
}

export const secretKey = 'sk-ant-api03-secret-key-0123456789';

export function anthropicTarget(options: { baseUrl?: string; maxTokens?: number; providerOptions?: Record<string, unknown> } = {}): Target {
  const provider: ProviderSettings = {
    name: 'claude',
    type: 'anthropic',
    baseUrl: options.baseUrl ?? 'https://api.anthropic.com',
    apiKeys: [secretKey],
    headers: {},
    options: options.providerOptions ?? {},
  };
  return {
    id: 'claude/claude-sonnet-4-5',
    provider,
    model: 'claude-sonnet-4-5',
    apiKey: secretKey,
    keyIndex: 0,
    settings: { provider: 'claude', model: 'claude-sonnet-4-5', weight: 1, maxTokens: options.maxTokens },
  };
}

/** An `anthropic`-type provider entry pointing at a simulator (which speaks Anthropic at `/v1/messages`). */
export function anthropicProvider(simUrl: string, apiKey = 'sk-ant-test-key-0001'): Record<string, unknown> {
  return { type: 'anthropic', base_url: simUrl, api_key: apiKey };
}
