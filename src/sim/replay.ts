import { readFileSync } from 'node:fs';
import type { WireFormat } from '../providers/types.js';

/**
 * A captured answer the simulator plays back instead of generating one: a whole response body
 * (`*.json`) and/or a stream (`*.chunks.txt`: one event's JSON per line, as in `fixtures/`).
 */
export interface Replay {
  /** The body sent for a non-streaming request, verbatim. */
  json?: string | undefined;
  /** The JSON of each stream event, in order. */
  events?: readonly string[] | undefined;
}

export interface ReplayFiles {
  json?: string | undefined;
  chunks?: string | undefined;
}

export function loadReplay(files: ReplayFiles): Replay {
  return {
    json: files.json === undefined ? undefined : readFileSync(files.json, 'utf8'),
    events: files.chunks === undefined ? undefined : readFileSync(files.chunks, 'utf8').split('\n').filter((line) => line.trim() !== ''),
  };
}

/** Frames captured events the way the format's parsers expect them. */
export function frameReplayEvents(format: WireFormat, events: readonly string[]): string[] {
  if (format === 'anthropic') {
    // Anthropic names each event; the name equals the JSON's own `type`.
    return events.map((data) => `event: ${(JSON.parse(data) as { type?: string }).type ?? 'message'}\ndata: ${data}\n\n`);
  }
  const framed = events.map((data) => `data: ${data}\n\n`);
  return format === 'openai' ? [...framed, 'data: [DONE]\n\n'] : framed;
}
