import type { Target } from '../../../src/core/settings.js';
import { SseParser } from '../../../src/providers/shared/sse.js';
import type { ChatChunk, ProviderAdapter } from '../../../src/providers/types.js';
import { projectFixtures } from '../../helpers/fixture-sets.js';

/** The project's own provider answers (`test/fixtures/`, see its README). */
export function fixtureText(name: string): string {
  return projectFixtures.text(name);
}

export function fixtureJson(name: string): unknown {
  return projectFixtures.json(name);
}

/** The JSON payloads of a `.chunks.txt` fixture, one per event. */
export function fixtureEvents(name: string): unknown[] {
  return projectFixtures.events(name);
}

/**
 * Event payloads framed as each provider sends them: OpenAI ends with `data: [DONE]`,
 * Anthropic names each event after its `type`, Gemini has neither.
 */
export function frameStream(format: string, payloads: readonly unknown[]): string {
  const events = payloads.map((payload) => {
    const data = JSON.stringify(payload);
    const type = typeof payload === 'object' && payload !== null ? (payload as { type?: unknown }).type : undefined;
    return format === 'anthropic' && typeof type === 'string' ? `event: ${type}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
  });
  return events.join('') + (format === 'openai' ? 'data: [DONE]\n\n' : '');
}

/**
 * Decodes a stream as the engine receives it: the framed bytes in awkward 7-byte pieces, through
 * the real SSE parser. With `cutAfterEvents`, the connection drops after that many events.
 */
export function decodeStream(adapter: ProviderAdapter, target: Target, payloads: readonly unknown[], cutAfterEvents = Infinity): { chunks: ChatChunk[]; isComplete: boolean } {
  const bytes = Buffer.from(frameStream(adapter.format, payloads));
  const parser = new SseParser();
  const decoder = adapter.createStreamDecoder(target);
  const chunks: ChatChunk[] = [];
  let seen = 0;
  for (let start = 0; start < bytes.length && seen < cutAfterEvents; start += 7) {
    for (const event of parser.feed(bytes.subarray(start, start + 7))) {
      if (seen++ < cutAfterEvents) chunks.push(...decoder.decode(event));
    }
  }
  if (seen < cutAfterEvents) for (const event of parser.flush()) chunks.push(...decoder.decode(event));
  return { chunks, isComplete: decoder.isComplete };
}
