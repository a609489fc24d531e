import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvents } from '../../src/core/events.js';
import { defaultAnswerStyle } from '../../src/sim/answer.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/**
 * `stream_min_tokens_per_s`: a stream that still flows, but slower than the route asks, counts as
 * broken: it is continued on the backup (text whole, exactly once), never left to crawl, and
 * never cut without the setting.
 */
describe('stream_min_tokens_per_s', () => {
  async function setUp(route: Record<string, unknown>) {
    // About two tokens a second: a chunk of a few characters every 700 ms.
    const crawling = cleanup.add(await startSim({ chunkDelayMs: 700 }));
    const backup = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway({
        providers: { crawling: openAiProvider(crawling, 'sk-crawling-0000000001'), backup: openAiProvider(backup, 'sk-backup-000000000001') },
        models: { chat: { ...route, targets: [{ provider: 'crawling', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }] } },
      }),
    );
    const continued: Array<EngineEvents['stream.continued']> = [];
    gateway.engine.events.on('stream.continued', (event) => continued.push(event));
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return { text, continued };
  }

  it('continues a stream slower than the route`s minimum on the backup, the client text whole', async () => {
    const { text, continued } = await setUp({ stream_min_tokens_per_s: 10 });
    expect(text).toBe(defaultAnswerStyle.text);
    expect(continued.map((event) => `${event.from} → ${event.to} ${event.code}`)).toEqual(['crawling/gpt-4o-mini → backup/gpt-4o-mini UPSTREAM_STREAM_TOO_SLOW']);
  }, 60_000);

  it('leaves a slow stream alone when the route sets no minimum', async () => {
    const { text, continued } = await setUp({});
    expect(text).toBe(defaultAnswerStyle.text);
    expect(continued).toEqual([]);
  }, 60_000);
});
