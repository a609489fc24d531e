import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, tryParseJson } from '../shared/json.js';
import { redactSecrets } from '../shared/redact.js';
import type { ChatChunk, ChunkDelta, SseEvent, StreamDecoder, StreamInspection } from '../types.js';
import { failedResponse, finishOf, readResponsesUsage } from './response.js';

/**
 * A Responses API stream decoded into canonical chunks: text deltas, function calls (opened by
 * `output_item.added`, filled by argument deltas) and, at `response.completed` or
 * `response.incomplete`, the finish reason and usage. Other events (reasoning summaries,
 * `.done` repeats) carry nothing a chat client receives.
 */
export class ResponsesStreamDecoder implements StreamDecoder {
  private complete = false;
  private id = 'resp';
  private model: string;
  private created = Math.floor(Date.now() / 1000);
  private readonly callIndexes = new Map<string, number>();

  constructor(private readonly target: Target) {
    this.model = target.model;
  }

  get isComplete(): boolean {
    return this.complete;
  }

  get isTerminated(): boolean {
    return this.complete;
  }

  decode(event: SseEvent): ChatChunk[] {
    const payload = tryParseJson(event.data);
    if (!isRecord(payload) || typeof payload.type !== 'string') throw badEvent(this.target);
    switch (payload.type) {
      case 'response.created': {
        const response = isRecord(payload.response) ? payload.response : {};
        if (typeof response.id === 'string') this.id = response.id;
        if (typeof response.model === 'string') this.model = response.model;
        if (typeof response.created_at === 'number') this.created = response.created_at;
        return [this.chunk({ role: 'assistant', content: '' })];
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        return typeof payload.delta === 'string' && payload.delta !== '' ? [this.chunk({ content: payload.delta })] : [];
      case 'response.output_item.added': {
        const item = isRecord(payload.item) ? payload.item : {};
        if (item.type !== 'function_call' || typeof item.name !== 'string') return [];
        const index = this.callIndexes.size;
        if (typeof item.id === 'string') this.callIndexes.set(item.id, index);
        const callId = typeof item.call_id === 'string' ? item.call_id : `call_${index}`;
        return [this.chunk({ tool_calls: [{ index, id: callId, type: 'function', function: { name: item.name, arguments: '' } }] })];
      }
      case 'response.function_call_arguments.delta': {
        const index = typeof payload.item_id === 'string' ? this.callIndexes.get(payload.item_id) : undefined;
        if (index === undefined || typeof payload.delta !== 'string') return [];
        return [this.chunk({ tool_calls: [{ index, function: { arguments: payload.delta } }] })];
      }
      case 'response.completed':
      case 'response.incomplete': {
        this.complete = true;
        const response = isRecord(payload.response) ? payload.response : {};
        const finish = this.chunk({}, finishOf(response, this.callIndexes.size > 0));
        const usage = readResponsesUsage(response);
        return usage ? [finish, { ...this.chunk({}), choices: [], usage }] : [finish];
      }
      case 'response.failed':
        throw failedResponse(isRecord(payload.response) ? payload.response : {}, this.target);
      case 'error':
        throw streamError(payload, this.target);
      default:
        return [];
    }
  }

  private chunk(delta: ChunkDelta, finish: ChatChunk['choices'][number]['finish_reason'] = null): ChatChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}

function badEvent(target: Target): DetourError {
  return new DetourError({ kind: 'retryable', code: 'UPSTREAM_BAD_RESPONSE', target: target.id, message: `${target.id} sent a stream event that is not a Responses API event` });
}

function streamError(payload: Record<string, unknown>, target: Target): DetourError {
  const message = redactSecrets(typeof payload.message === 'string' ? payload.message : 'stream error', [target.apiKey]);
  return new DetourError({ kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR', target: target.id, message: `${target.id} reported an error in its stream: ${message}` });
}

/**
 * Watches a passed-through Responses stream. Only the events that end it, or report an error,
 * are parsed: every delta is forwarded untouched.
 */
/** A function call output item begins (or its arguments stream): `response.output_item.added` of a `function_call`. */
export function isResponsesToolCallEvent(event: SseEvent): boolean {
  const name = event.event ?? typeOf(event.data);
  if (name === 'response.output_item.added') return event.data.includes('_call"');
  return name !== undefined && name.startsWith('response.function_call_arguments.');
}

export function inspectResponsesEvent(event: SseEvent, _clientWantsUsage: boolean, target: Target): StreamInspection {
  const name = event.event ?? typeOf(event.data);
  if (name === 'response.completed' || name === 'response.incomplete') {
    return { done: true, finished: true, usage: readResponsesUsage(tryParseJson(event.data)), forward: true };
  }
  if (name === 'response.failed') {
    const payload = tryParseJson(event.data);
    return { error: failedResponse(isRecord(payload) && isRecord(payload.response) ? payload.response : {}, target), forward: false };
  }
  if (name === 'error') {
    const payload = tryParseJson(event.data);
    return { error: streamError(isRecord(payload) ? payload : {}, target), forward: false };
  }
  return { forward: true };
}

const typePattern = /^\{\s*"type"\s*:\s*"([^"]+)"/;

/** The event's type when the upstream sent no `event:` line (OpenAI puts `type` first). */
function typeOf(data: string): string | undefined {
  return typePattern.exec(data)?.[1];
}
