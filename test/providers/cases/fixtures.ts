import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The captured provider responses shared by the team (see its README). */
const fixturesDir = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(`${fixturesDir}${name}`, 'utf8');
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixtureText(name)) as unknown;
}

/** The JSON payloads of a `.chunks.txt` fixture, one per event. */
export function fixtureEvents(name: string): unknown[] {
  return fixtureText(name)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
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
