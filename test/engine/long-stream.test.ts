import { afterEach, describe, expect, it } from 'vitest';
import type { RequestFinishedEvent } from '../../src/core/events.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { scaledTime } from '../helpers/scaled-time.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Gateway time runs 30× the wall's: 90 s of stream in about 3 s, the default timeouts unchanged. */
const factor = 30;

describe('timeouts that fit streams', () => {
  it('a healthy 90 s stream finishes under the default timeouts (attempt_timeout_ms bounds only its start)', async () => {
    const chunks = 100;
    // A chunk every 0.9 s of gateway time: always within stream_idle_timeout_ms, 90 s in all.
    const sim = cleanup.add(await startSim({ chunkDelayMs: 900 / factor, answer: { chunks } }));
    const { clock, timers } = scaledTime(factor);
    const gateway = cleanup.add(
      await startGateway({ providers: { primary: openAiProvider(sim) }, models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } } }, { clock, timers }),
    );
    const finished: RequestFinishedEvent[] = [];
    gateway.engine.events.on('request.finished', (event) => finished.push(event));
    const client = await openAiClient(gateway.url);
    const whole = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Tell me a long story' }] });
    const startedAt = clock.now();
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Tell me a long story' }], stream: true });
    let text = '';
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(finishReason).toBe('stop');
    const streamed = finished.find((event) => event.stream);
    expect(streamed?.status).toBe(200);
    expect(streamed?.errorCode).toBeUndefined();
    // It really lasted longer than attempt_timeout_ms (30 s) and than stream_idle_timeout_ms: in gateway time, about 90 s.
    expect(clock.now() - startedAt).toBeGreaterThan(85_000);
  });
});
