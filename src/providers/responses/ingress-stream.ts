import type { ChatChunk, ErrorPayload, FinishReason, StreamEncoder, ToolCallDelta, Usage } from '../types.js';
import { callItem, customInput, incompleteReason, messageItem, newItemId, outputTextPart, responseEnvelope, responsesUsage, type ResponseContext } from './ingress-response.js';

interface OpenMessage {
  outputIndex: number;
  id: string;
  text: string;
}

interface OpenCall {
  outputIndex: number;
  id: string;
  callId: string;
  name: string;
  args: string;
}

/** Formats one typed Responses event as SSE, with its event name, as OpenAI sends them. */
export function responsesEvent(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

/**
 * Canonical chat chunks as the Responses API's typed stream: `response.created`,
 * `response.in_progress`, then per output item `output_item.added`, its content or argument
 * deltas and `.done` events, `output_item.done`, and at the end `response.completed` (or
 * `response.incomplete` when the answer was cut short), every event numbered in order. The
 * items are opened and closed in order, so that a client accumulating a snapshot (the official
 * SDK's `finalResponse()`) always finds the item an event names.
 */
export class ResponsesStreamEncoder implements StreamEncoder {
  private sequence = 0;
  private isStarted = false;
  private model = '';
  private nextOutputIndex = 0;
  private message: OpenMessage | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private readonly output: Record<string, unknown>[] = [];
  private usage: Usage | undefined;
  private finishReason: FinishReason | null = null;

  constructor(private readonly context: ResponseContext) {}

  encode(chunk: ChatChunk): string {
    let out = '';
    if (!this.isStarted) out += this.start(chunk.model);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const delta = choice.delta;
    const text = (delta.content ?? '') + (delta.refusal ?? '');
    if (text !== '') out += this.text(text);
    for (const call of delta.tool_calls ?? []) out += this.toolCall(call);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  end(): string {
    let out = this.isStarted ? '' : this.start(this.model);
    out += this.closeMessage() + this.closeCalls();
    const reason = incompleteReason(this.finishReason);
    const response = this.snapshot(reason ? 'incomplete' : 'completed');
    if (reason) response.incomplete_details = { reason };
    return out + this.event(reason ? 'response.incomplete' : 'response.completed', { response });
  }

  error(error: ErrorPayload): string {
    let out = this.isStarted ? '' : this.start(this.model);
    out += this.event('error', { code: error.code, message: error.message, param: error.param ?? null });
    const response = this.snapshot('failed');
    response.error = { code: error.code, message: error.message };
    return out + this.event('response.failed', { response });
  }

  resumeAfter(passedThrough: string): void {
    const last = lastDataEvent(passedThrough);
    if (!last) return;
    this.isStarted = true;
    if (typeof last.sequence_number === 'number') this.sequence = last.sequence_number + 1;
    const itemId = typeof last.item_id === 'string' ? last.item_id : undefined;
    if (this.message && itemId?.startsWith('msg') && typeof last.output_index === 'number') {
      this.message.id = itemId;
      this.message.outputIndex = last.output_index;
      this.nextOutputIndex = Math.max(this.nextOutputIndex, last.output_index + 1);
    }
  }

  private start(model: string): string {
    this.isStarted = true;
    this.model = model;
    const response = responseEnvelope(this.context, model, 'in_progress');
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  private text(text: string): string {
    let out = '';
    if (!this.message) {
      out += this.closeCalls();
      const id = newItemId('msg');
      this.message = { outputIndex: this.nextOutputIndex++, id, text: '' };
      out += this.event('response.output_item.added', { output_index: this.message.outputIndex, item: messageItem(id, '', 'in_progress') });
      out += this.event('response.content_part.added', { item_id: id, output_index: this.message.outputIndex, content_index: 0, part: outputTextPart('') });
    }
    this.message.text += text;
    return out + this.event('response.output_text.delta', { item_id: this.message.id, output_index: this.message.outputIndex, content_index: 0, delta: text, logprobs: [] });
  }

  private toolCall(delta: ToolCallDelta): string {
    let out = '';
    let call = this.calls.get(delta.index);
    if (!call) {
      out += this.closeMessage();
      call = { outputIndex: this.nextOutputIndex++, id: newItemId('fc'), callId: delta.id ?? newItemId('call'), name: delta.function?.name ?? '', args: '' };
      this.calls.set(delta.index, call);
      out += this.event('response.output_item.added', { output_index: call.outputIndex, item: this.callItem(call, 'in_progress') });
    }
    const args = delta.function?.arguments ?? '';
    if (args === '') return out;
    call.args += args;
    // A custom tool's text is inside the JSON a chat upstream streams: it is given whole, when the call is done.
    if (this.context.customTools.has(call.name)) return out;
    return out + this.event('response.function_call_arguments.delta', { item_id: call.id, output_index: call.outputIndex, delta: args });
  }

  private closeMessage(): string {
    const message = this.message;
    if (!message) return '';
    this.message = undefined;
    const base = { item_id: message.id, output_index: message.outputIndex, content_index: 0 };
    const item = messageItem(message.id, message.text, 'completed');
    this.output.push(item);
    return (
      this.event('response.output_text.done', { ...base, text: message.text, logprobs: [] }) +
      this.event('response.content_part.done', { ...base, part: outputTextPart(message.text) }) +
      this.event('response.output_item.done', { output_index: message.outputIndex, item })
    );
  }

  private closeCalls(): string {
    let out = '';
    for (const call of this.calls.values()) {
      const item = this.callItem(call, 'completed');
      this.output.push(item);
      if (item.type === 'custom_tool_call') out += this.event('response.custom_tool_call_input.done', { item_id: call.id, output_index: call.outputIndex, input: customInput(call.args) });
      else out += this.event('response.function_call_arguments.done', { item_id: call.id, output_index: call.outputIndex, name: call.name, arguments: call.args });
      out += this.event('response.output_item.done', { output_index: call.outputIndex, item });
    }
    this.calls.clear();
    return out;
  }

  private callItem(call: OpenCall, status: 'completed' | 'in_progress'): Record<string, unknown> {
    return callItem(call.id, { id: call.callId, type: 'function', function: { name: call.name, arguments: call.args } }, status, this.context);
  }

  private snapshot(status: 'completed' | 'incomplete' | 'failed'): Record<string, unknown> {
    const response = responseEnvelope(this.context, this.model, status);
    // Items are closed in the order they were opened, so this is output-index order.
    response.output = [...this.output];
    response.usage = responsesUsage(this.usage);
    return response;
  }

  private event(type: string, payload: Record<string, unknown>): string {
    return responsesEvent(type, { ...payload, sequence_number: this.sequence++ });
  }
}

/** The last `data:` event of some stream text, parsed; undefined when there is none that parses. */
function lastDataEvent(text: string): Record<string, unknown> | undefined {
  const start = text.lastIndexOf('data: {');
  if (start < 0) return undefined;
  const end = text.indexOf('\n', start);
  try {
    const parsed = JSON.parse(text.slice(start + 6, end < 0 ? undefined : end)) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
