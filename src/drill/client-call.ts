import { request, type Dispatcher } from 'undici';
import { SseParser } from '../providers/shared/sse.js';
import type { SseEvent } from '../providers/types.js';
import type { RequestSpec } from './request-mix.js';

/**
 * How one client request ended, as the client saw it:
 * - `success`: a whole answer;
 * - `error`: a clear error answer (a status and a Detour error code, in the client's format);
 * - `cut`: a stream that had started, then ended with an explicit error event;
 * - `hung`: nothing (or no end) within the route's deadline plus a grace, so the client gave up;
 * - `broken`: anything else (a dropped connection, a body that is not an error, a stream that just stops).
 */
export type CallOutcome = 'success' | 'error' | 'cut' | 'hung' | 'broken';

export interface CallRecord {
  format: RequestSpec['format'];
  stream: boolean;
  hasTools: boolean;
  /** Epoch ms when it was sent and when it ended. */
  startedAt: number;
  endedAt: number;
  latencyMs: number;
  /** Streams: time to the first event. */
  ttftMs?: number | undefined;
  outcome: CallOutcome;
  status: number;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  /** Who served it (`x-detour-target`) and after how many upstream calls (`x-detour-attempts`). */
  target?: string | undefined;
  /** The region of the target that answered (`x-detour-region`), when it declares one. */
  region?: string | undefined;
  attempts?: number | undefined;
  isFailover: boolean;
}

export interface CallOptions {
  baseUrl: string;
  dispatcher: Dispatcher;
  /** The client gives up after this long: the route's deadline plus a grace. */
  deadlineMs: number;
}

/** Sends one request through the gateway and reads its answer to the end. Never throws. */
export async function sendCall(spec: RequestSpec, options: CallOptions): Promise<CallRecord> {
  const startedAt = Date.now();
  const controller = new AbortController();
  let isPastDeadline = false;
  const timer = setTimeout(() => {
    isPastDeadline = true;
    controller.abort();
  }, options.deadlineMs);
  const record: CallRecord = { format: spec.format, stream: spec.stream, hasTools: spec.hasTools, startedAt, endedAt: startedAt, latencyMs: 0, outcome: 'broken', status: 0, isFailover: false };
  try {
    const response = await request(`${options.baseUrl}${spec.path}`, { method: 'POST', headers: spec.headers, body: spec.body, dispatcher: options.dispatcher, signal: controller.signal });
    record.status = response.statusCode;
    record.target = header(response.headers, 'x-detour-target');
    record.region = header(response.headers, 'x-detour-region');
    const attempts = Number(header(response.headers, 'x-detour-attempts'));
    record.attempts = Number.isFinite(attempts) && attempts > 0 ? attempts : undefined;
    record.isFailover = header(response.headers, 'x-detour-failover') === 'true';
    const isStream = spec.stream && response.statusCode === 200 && (header(response.headers, 'content-type') ?? '').startsWith('text/event-stream');
    if (isStream) await readStream(response.body, spec.format, startedAt, record);
    else readBody(await response.body.text(), spec.format, record);
  } catch (error) {
    record.outcome = isPastDeadline ? 'hung' : 'broken';
    record.errorMessage = isPastDeadline ? `no answer within ${options.deadlineMs} ms` : error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
  record.endedAt = Date.now();
  record.latencyMs = record.endedAt - startedAt;
  return record;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The Detour error code and message in an error body of either format; undefined when it is not one. */
export function errorOf(body: unknown, format: RequestSpec['format']): { code: string; message: string } | undefined {
  const error = asRecord(asRecord(body)?.error);
  if (!error || typeof error.message !== 'string') return undefined;
  // Anthropic's body keeps Detour's own code in error.details.error_code; its type is Anthropic's.
  const code = format === 'anthropic' ? (asRecord(error.details)?.error_code ?? error.type) : error.code;
  return typeof code === 'string' && code.length > 0 ? { code, message: error.message } : undefined;
}

function readBody(text: string, format: RequestSpec['format'], record: CallRecord): void {
  const body = parseJson(text);
  if (record.status >= 200 && record.status < 300) {
    const answer = asRecord(body);
    const isAnswer = format === 'openai' ? Array.isArray(answer?.choices) : Array.isArray(answer?.content);
    record.outcome = isAnswer ? 'success' : 'broken';
    if (!isAnswer) record.errorMessage = 'a 2xx answer without an answer in it';
    return;
  }
  const error = errorOf(body, format);
  record.outcome = error ? 'error' : 'broken';
  record.errorCode = error?.code;
  record.errorMessage = error?.message ?? `HTTP ${record.status} without an error body: ${text.slice(0, 120)}`;
}

async function readStream(body: AsyncIterable<Buffer>, format: RequestSpec['format'], startedAt: number, record: CallRecord): Promise<void> {
  const parser = new SseParser();
  const handle = (events: readonly SseEvent[]): boolean => {
    for (const event of events) {
      record.ttftMs ??= Date.now() - startedAt;
      const seen = inspectEvent(event, format);
      if (seen === 'done') {
        record.outcome = 'success';
        return true;
      }
      if (seen !== 'content') {
        record.outcome = 'cut';
        record.errorCode = seen.code;
        record.errorMessage = seen.message;
        return true;
      }
    }
    return false;
  };
  for await (const chunk of body) if (handle(parser.feed(chunk))) break;
  if (record.outcome === 'success' || record.outcome === 'cut') return;
  if (handle(parser.flush())) return;
  record.outcome = 'broken';
  record.errorMessage = 'the stream ended without its end marker or an error event';
}

function inspectEvent(event: SseEvent, format: RequestSpec['format']): 'content' | 'done' | { code: string; message: string } {
  if (format === 'openai') {
    if (event.data === '[DONE]') return 'done';
    const error = errorOf(parseJson(event.data), format);
    return error ?? 'content';
  }
  if (event.event === 'message_stop') return 'done';
  if (event.event === 'error') return errorOf(parseJson(event.data), format) ?? { code: 'UNKNOWN', message: event.data.slice(0, 200) };
  return 'content';
}
