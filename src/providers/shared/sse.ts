import { StringDecoder } from 'node:string_decoder';
import type { SseEvent } from '../types.js';

/** Largest single event accepted by default (bytes of its text): far above any real provider's, far below what hurts. */
export const defaultMaxEventBytes = 8 * 1024 * 1024;

/** Thrown when one event grows past the parser's cap; the caller classifies it for its side. */
export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`a stream event grew past ${limit} bytes`);
    this.name = 'SseEventTooLarge';
  }
}

/**
 * An incremental server-sent-events parser: feed it network chunks in any split, get back
 * whole events. Tolerates `\n`, `\r\n` and `\r` line endings, as js-genai and the spec do.
 *
 * Linear in its input: each chunk is scanned once (a pending event is kept as parts, never
 * re-joined or re-scanned per chunk), and an event longer than `maxEventBytes` throws
 * `SseEventTooLarge` instead of growing without bound — a stream without blank lines must not
 * cost the process its memory or its event loop.
 */
export class SseParser {
  /** UTF-8 split across chunks is held back until whole; Node's StringDecoder does that for less than a streaming TextDecoder. */
  private readonly decoder = new StringDecoder('utf8');
  /** A byte-order mark opening the stream is not part of it (as a TextDecoder, and the SSE spec, drop it). */
  private isAtStart = true;
  /** The pending (incomplete) event's text, in the order received. */
  private parts: string[] = [];
  private pendingLength = 0;
  /** Whether the pending text ends with `\n` (half of a blank line that may complete in the next chunk). */
  private endsWithNewline = false;
  /** Whether the last chunk ended in `\r`, so a `\n` starting the next one is the same line end. */
  private endsWithCarriageReturn = false;

  constructor(private readonly maxEventBytes = defaultMaxEventBytes) {}

  feed(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk as Buffer);
    if (text.length === 0) return [];
    if (this.isAtStart) {
      this.isAtStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.length === 0) return [];
    }
    if (this.endsWithCarriageReturn && text.charCodeAt(0) === 10) text = text.slice(1);
    this.endsWithCarriageReturn = text.charCodeAt(text.length - 1) === 13;
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    let start = 0;
    // The blank line may straddle chunks: the pending text ended with `\n` and this one starts with it.
    if (this.endsWithNewline && text.charCodeAt(0) === 10) {
      this.emit(events, '');
      start = 1;
    }
    for (;;) {
      const end = text.indexOf('\n\n', start);
      if (end === -1) break;
      this.emit(events, text.slice(start, end));
      start = end + 2;
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      this.parts.push(rest);
      this.pendingLength += rest.length;
      this.endsWithNewline = rest.charCodeAt(rest.length - 1) === 10;
      if (this.pendingLength > this.maxEventBytes) {
        this.reset();
        throw new SseEventTooLarge(this.maxEventBytes);
      }
    }
    return events;
  }

  /** The event left when the stream closed without a final blank line (Gemini ends at close). */
  flush(): SseEvent[] {
    const rest = this.parts.join('').trim();
    this.reset();
    if (!rest) return [];
    const event = parseBlock(rest);
    return event ? [event] : [];
  }

  /** Completes the pending event with `tail` (the text up to its blank line). */
  private emit(events: SseEvent[], tail: string): void {
    let block = tail;
    if (this.parts.length > 0) {
      this.parts.push(tail);
      block = this.parts.join('');
      // The pending text's trailing `\n` was the first half of the blank line.
      if (tail === '' && block.endsWith('\n')) block = block.slice(0, -1);
    }
    this.reset();
    if (block.length > this.maxEventBytes) throw new SseEventTooLarge(this.maxEventBytes);
    const event = parseBlock(block);
    if (event) events.push(event);
  }

  private reset(): void {
    this.parts = [];
    this.pendingLength = 0;
    this.endsWithNewline = false;
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
