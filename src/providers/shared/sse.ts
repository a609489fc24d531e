import type { SseEvent } from '../types.js';

/**
 * An incremental server-sent-events parser: feed it network chunks in any split, get back
 * whole events. Tolerates `\n`, `\r\n` and `\r` line endings, as js-genai and the spec do.
 */
export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  feed(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const end = this.buffer.indexOf('\n\n', start);
      if (end === -1) break;
      const event = parseBlock(this.buffer.slice(start, end));
      if (event) events.push(event);
      start = end + 2;
    }
    if (start > 0) this.buffer = this.buffer.slice(start);
    return events;
  }

  /** The event left when the stream closed without a final blank line (Gemini ends at close). */
  flush(): SseEvent[] {
    const rest = this.buffer.trim();
    this.buffer = '';
    if (!rest) return [];
    const event = parseBlock(rest);
    return event ? [event] : [];
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event: string | undefined;
  let data: string | undefined;
  let position = 0;
  while (position <= block.length) {
    let lineEnd = block.indexOf('\n', position);
    if (lineEnd === -1) lineEnd = block.length;
    const line = block.slice(position, lineEnd);
    position = lineEnd + 1;
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
  }
  if (data === undefined) return undefined;
  return { event, data, raw: block };
}

/** Formats one event for the wire. */
export function formatSse(data: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}
