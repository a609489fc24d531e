import type { ChatChunk, StreamEncoder } from '../providers/types.js';

/**
 * What the gateway does for a stream the engine continued on another target (see
 * `engine/stream-continuation.ts`): it primes a fresh client encoder with the text the client
 * already has, and marks the stream's final event.
 */

/**
 * Writes the part the client already has through a fresh encoder and returns that text, for the
 * caller to throw away: the encoder now stands where the client's passed-through stream stands
 * (inside its message and its text block), so what it writes next continues that stream. When
 * the client has nothing yet (its first events were a tool call, held back whole), the caller
 * sends the text instead: the opening of the message.
 */
export function primeEncoder(encoder: StreamEncoder, prefix: string): string {
  const chunk = (delta: ChatChunk['choices'][number]['delta']): ChatChunk => ({ id: 'continued', object: 'chat.completion.chunk', created: 0, model: '', choices: [{ index: 0, delta, finish_reason: null }] });
  let text = encoder.encode(chunk({ role: 'assistant', content: '' }));
  if (prefix) text += encoder.encode(chunk({ content: prefix }));
  return text;
}

/**
 * Adds `detour: mark` to the last JSON data event of `text`: the final event's metadata, which
 * every SDK passes over (unknown fields are ignored) and a reader of the raw stream can see.
 */
export function markLastDataEvent(text: string, mark: Readonly<Record<string, unknown>>): string {
  const start = text.lastIndexOf('data: {');
  if (start < 0) return text;
  const end = text.indexOf('\n', start);
  const line = text.slice(start + 6, end < 0 ? undefined : end);
  let payload: unknown;
  try {
    payload = JSON.parse(line);
  } catch {
    return text;
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return text;
  return text.slice(0, start + 6) + JSON.stringify({ ...(payload as Record<string, unknown>), detour: mark }) + (end < 0 ? '' : text.slice(end));
}
