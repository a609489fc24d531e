import { formatSse } from '../shared/sse.js';
import type { ChatChunk, ErrorPayload, FinishReason, StreamEncoder, ToolCallDelta, Usage } from '../types.js';
import { encodeAnthropicError } from './encode-error.js';
import { anthropicMessageId } from './encode-response.js';
import { toStopReason } from './finish-reason.js';
import { toAnthropicUsage } from './usage.js';
import { directCaller } from './wire.js';

/** One event, `event:` named after the JSON's `type`, as the Anthropic SDK requires. */
function sse(payload: { type: string } & Record<string, unknown>): string {
  return formatSse(JSON.stringify(payload), payload.type);
}

/** What ends an Anthropic stream; also what closes a passed-through one that lacked it. */
export const messageStopEvent = sse({ type: 'message_stop' });

/**
 * Encodes canonical chunks as an Anthropic Messages stream:
 * `message_start`, then per content block `content_block_start` / `_delta` / `_stop` (text as
 * `text_delta`, each tool call as a `tool_use` block fed by `input_json_delta`), then one
 * `message_delta` with the stop reason and the usage, then `message_stop`.
 *
 * OpenAI-shaped streams give the finish reason before the usage chunk, while Anthropic puts both
 * in `message_delta`: the stop reason is held until the usage arrives or the stream ends.
 * Block indexes are positions in the final `content` array, which is how the SDK assembles them.
 */
export class AnthropicStreamEncoder implements StreamEncoder {
  private isStarted = false;
  private isMessageDeltaSent = false;
  private openBlock: number | undefined;
  private openTextBlock: number | undefined;
  private nextBlock = 0;
  /** Canonical tool call index → its block index. */
  private readonly toolBlocks = new Map<number, number>();
  private finishReason: FinishReason | undefined;
  private isRefusal = false;
  private usage: Usage | undefined;

  encode(chunk: ChatChunk): string {
    let out = this.isStarted ? '' : this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    // Anthropic answers have one choice; a translated request never asks for more.
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (choice && !this.isMessageDeltaSent) {
      const delta = choice.delta;
      if (typeof delta.content === 'string' && delta.content !== '') out += this.text(delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal !== '') {
        this.isRefusal = true;
        out += this.text(delta.refusal);
      }
      for (const call of delta.tool_calls ?? []) out += this.toolCall(call);
      if (choice.finish_reason) {
        out += this.closeBlock();
        this.finishReason = choice.finish_reason;
      }
    }
    if (this.finishReason !== undefined && this.usage !== undefined) out += this.messageDelta();
    return out;
  }

  end(): string {
    let out = this.isStarted ? '' : this.start(undefined);
    out += this.closeBlock();
    out += this.messageDelta();
    return out + messageStopEvent;
  }

  error(error: ErrorPayload): string {
    return formatSse(encodeAnthropicError(error), 'error');
  }

  private start(chunk: ChatChunk | undefined): string {
    this.isStarted = true;
    return sse({
      type: 'message_start',
      message: {
        id: anthropicMessageId(chunk?.id ?? ''),
        type: 'message',
        role: 'assistant',
        model: chunk?.model ?? '',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // OpenAI reports usage last (message_delta then carries the prompt's size); Gemini tells the prompt's size on its first chunk.
        usage: toAnthropicUsage(chunk?.usage ?? chunk?.promptUsage),
      },
    });
  }

  private text(text: string): string {
    let out = '';
    if (this.openTextBlock === undefined) {
      out += this.closeBlock();
      this.openTextBlock = this.openBlock = this.nextBlock++;
      out += sse({ type: 'content_block_start', index: this.openBlock, content_block: { type: 'text', text: '' } });
    }
    return out + sse({ type: 'content_block_delta', index: this.openTextBlock, delta: { type: 'text_delta', text } });
  }

  private toolCall(call: ToolCallDelta): string {
    let out = '';
    let block = this.toolBlocks.get(call.index);
    if (block === undefined) {
      out += this.closeBlock();
      block = this.openBlock = this.nextBlock++;
      this.toolBlocks.set(call.index, block);
      out += sse({ type: 'content_block_start', index: block, content_block: { type: 'tool_use', id: call.id ?? '', name: call.function?.name ?? '', input: {}, caller: directCaller } });
    }
    const json = call.function?.arguments;
    // OpenAI streams one tool call after another, so `block` is the open one; the index keeps it right if not.
    if (json) out += sse({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: json } });
    return out;
  }

  private closeBlock(): string {
    if (this.openBlock === undefined) return '';
    const index = this.openBlock;
    this.openBlock = this.openTextBlock = undefined;
    return sse({ type: 'content_block_stop', index });
  }

  private messageDelta(): string {
    if (this.isMessageDeltaSent) return '';
    this.isMessageDeltaSent = true;
    const usage = toAnthropicUsage(this.usage);
    const deltaUsage: Record<string, number> = { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens };
    if (usage.cache_read_input_tokens !== null) deltaUsage.cache_read_input_tokens = usage.cache_read_input_tokens;
    return sse({
      type: 'message_delta',
      delta: { stop_reason: toStopReason(this.finishReason, this.isRefusal), stop_sequence: null },
      usage: deltaUsage,
    });
  }
}
