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
