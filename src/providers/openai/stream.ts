import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, tryParseJson } from '../shared/json.js';
import type { ChatChunk, SseEvent, StreamDecoder, StreamInspection } from '../types.js';
import { classifyOpenAiStreamError } from './errors.js';
import { readOpenAiUsage } from './response.js';

/** OpenAI chunks are the canonical chunks: decoding is parsing plus watching for the end. */
export class OpenAiStreamDecoder implements StreamDecoder {
  private complete = false;
  private terminated = false;

  constructor(private readonly target: Target) {}

  get isComplete(): boolean {
    return this.complete;
  }

  get isTerminated(): boolean {
    return this.terminated;
  }

  decode(event: SseEvent): ChatChunk[] {
    if (event.data === '[DONE]') {
      this.complete = true;
      this.terminated = true;
      return [];
    }
    const payload = tryParseJson(event.data);
    if (!isRecord(payload)) throw badEvent(this.target);
    if (payload.error !== undefined && payload.error !== null) throw classifyOpenAiStreamError(payload, this.target);
    if (!Array.isArray(payload.choices)) throw badEvent(this.target);
    const chunk = payload as unknown as ChatChunk;
    if (chunk.choices.some((choice) => choice.finish_reason)) this.complete = true;
    return [chunk];
  }
}

function badEvent(target: Target): DetourError {
  return new DetourError({
    kind: 'retryable',
    code: 'UPSTREAM_BAD_RESPONSE',
    target: target.id,
    message: `${target.id} sent a stream event that is not a chat completion chunk`,
  });
}

const quote = 34;
const brace = 123;
const bracket = 91;

/**
 * Where `data` holds the key `"name"` from `from` on, or -1; `key` is the name with its closing
 * quote (`usage"`), and the opening quote is checked by hand. V8's `indexOf` runs to each place
 * the needle's first character occurs, and in JSON a quote is every few characters: on a
 * 223-character chunk `"usage"` takes 140–190 ns to miss, `usage"` 20–80 ns. The places matched
 * are the same: inside a JSON string a quote is escaped, so `"usage"` is only ever a key (or a
 * whole string value).
 */
function indexOfKey(data: string, key: string, from = 0): number {
  for (let at = data.indexOf(key, from); at !== -1; at = data.indexOf(key, at + key.length)) {
    if (data.charCodeAt(at - 1) === quote) return at;
  }
  return -1;
}

/**
 * Whether `data` holds the key (`key` as in `indexOfKey`) with a value opening with `open` (`"`
 * or `{`), with any JSON whitespace around the colon: what `/"key"\s*:\s*"/` matches, for a
 * fraction of its cost on every event of every stream.
 */
export function hasValueOpening(data: string, key: string, open: number): boolean {
  for (let at = indexOfKey(data, key); at !== -1; at = indexOfKey(data, key, at + key.length)) {
    let index = skipWhitespace(data, at + key.length);
    if (data.charCodeAt(index) !== 58) continue;
    index = skipWhitespace(data, index + 1);
    if (data.charCodeAt(index) === open) return true;
  }
  return false;
}

function skipWhitespace(data: string, from: number): number {
  let index = from;
  for (let code = data.charCodeAt(index); code === 32 || code === 9 || code === 10 || code === 13; code = data.charCodeAt(++index));
  return index;
}

/** A chunk with a tool call delta (or the legacy `function_call`); `"tool_calls":null` or `[]` is none. */
export function isOpenAiToolCallEvent(event: SseEvent): boolean {
  const data = event.data;
  // Both keys end in `_call` (`tool_calls`, `function_call`): one scan rules most events out.
  if (!data.includes('_call')) return false;
  if (hasValueOpening(data, 'function_call"', brace)) return true;
  const key = 'tool_calls"';
  for (let at = indexOfKey(data, key); at !== -1; at = indexOfKey(data, key, at + key.length)) {
    let index = skipWhitespace(data, at + key.length);
    if (data.charCodeAt(index) !== 58) continue;
    index = skipWhitespace(data, index + 1);
    if (data.charCodeAt(index) !== bracket) continue;
    if (data.charCodeAt(skipWhitespace(data, index + 1)) === brace) return true;
  }
  return false;
}

/**
 * Watches a passed-through event without parsing every one: only events that can carry an
 * error, usage or a finish reason are parsed.
 */
export function inspectOpenAiEvent(event: SseEvent, clientWantsUsage: boolean, target: Target): StreamInspection {
  const data = event.data;
  if (data === '[DONE]') return { done: true, forward: true };
  // Any server's spacing (`"usage": {`), not only compact JSON; a `null` finish reason or usage is not one.
  const finished = hasValueOpening(data, 'finish_reason"', quote);
  const mayCarryUsage = hasValueOpening(data, 'usage"', brace);
  // A superset of `"error"` (a parse it sends for nothing costs less than the quote-led scan on every event).
  const mayCarryError = data.includes('rror"');
  if (!mayCarryUsage && !mayCarryError) return { finished, forward: true };
  const payload = tryParseJson(data);
  if (isRecord(payload) && payload.error !== undefined && payload.error !== null) {
    return { error: classifyOpenAiStreamError(payload, target), forward: false };
  }
  const usage = readOpenAiUsage(payload);
  // The usage-only chunk (empty choices) was requested by us, not the client: keep it to ourselves.
  const isUsageOnly = usage !== undefined && isRecord(payload) && Array.isArray(payload.choices) && payload.choices.length === 0;
  return { finished, usage, forward: clientWantsUsage || !isUsageOnly };
}
