import { isRecord, stringField, tryParseJson } from '../providers/shared/json.js';
import type { SseEvent } from '../providers/types.js';

/** The client formats the library speaks in process: OpenAI Chat Completions and Anthropic Messages. */
export type ClientFormat = 'openai' | 'anthropic';

/** What one event of a stream in the client's format means to an in-process reader. */
export type StreamStep =
  | { type: 'chunk'; value: unknown }
  | { type: 'skip' }
  /** An error event: the engine's explicit end of a stream that failed after it had started. */
  | { type: 'error'; body: unknown }
  /** Data that is not JSON: reported, never skipped, since a silent gap would corrupt the answer. */
  | { type: 'unreadable'; data: string };

/** An error body's code and message, as a client SDK would read them. */
export interface ErrorSummary {
  code: string | undefined;
  message: string;
}

/** How a client of one format reads what the engine wrote in that format. */
interface ClientFormatReader {
  readStreamEvent(event: SseEvent): StreamStep;
  readError(body: unknown): ErrorSummary;
}

const openAi: ClientFormatReader = {
  readStreamEvent(event) {
    // `[DONE]` closes the stream on the wire; an iterator says the same by ending.
    if (event.data === '[DONE]') return { type: 'skip' };
    const value = tryParseJson(event.data);
    if (value === undefined) return { type: 'unreadable', data: event.data };
    if (isRecord(value) && value.error !== undefined) return { type: 'error', body: value };
    return { type: 'chunk', value };
  },
  readError(body) {
    const error = isRecord(body) ? body.error : undefined;
    return { code: stringField(error, 'code'), message: stringField(error, 'message') ?? 'request failed' };
  },
};

const anthropic: ClientFormatReader = {
  readStreamEvent(event) {
    // Anthropic's keep-alive; its SDK drops it too.
    if (event.event === 'ping') return { type: 'skip' };
    const value = tryParseJson(event.data);
    if (value === undefined) return { type: 'unreadable', data: event.data };
    if (event.event === 'error' || stringField(value, 'type') === 'error') return { type: 'error', body: value };
    return { type: 'chunk', value };
  },
  readError(body) {
    const error = isRecord(body) ? body.error : undefined;
    // Detour puts its own code in `details.error_code` (where the SDK finds it); an upstream's error has only its type.
    const details = isRecord(error) ? error.details : undefined;
    return { code: stringField(details, 'error_code') ?? stringField(error, 'type'), message: stringField(error, 'message') ?? 'request failed' };
  },
};

export const clientFormats: Readonly<Record<ClientFormat, ClientFormatReader>> = { openai: openAi, anthropic };
