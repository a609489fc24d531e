import type { LanguageModelV3StreamPart, SharedV3ProviderMetadata } from '@ai-sdk/provider';
import type { ChatCompletionChunk } from '../library/wire-types.js';
import type { FinishReason, Usage } from '../providers/types.js';
import { convertUsage } from './convert-usage.js';
import { mapFinishReason } from './map-finish-reason.js';

interface ToolCallState {
  id: string;
  name: string;
  arguments: string;
}

const textId = 'txt-0';

/**
 * Turns OpenAI chunks into AI SDK stream parts: text as start/delta/end, each tool call as
 * input start/deltas/end and then one `tool-call` with its whole input, and a `finish` with the
 * reason and usage. Holds the per-stream state; one instance per stream.
 */
export class ChunkPartMapper {
  private isMetadataSent = false;
  private isTextOpen = false;
  private readonly toolCalls = new Map<number, ToolCallState>();
  private finishReason: FinishReason | null = null;
  private usage: Usage | undefined;
  private isFailed = false;

  push(chunk: ChatCompletionChunk): LanguageModelV3StreamPart[] {
    const parts: LanguageModelV3StreamPart[] = [];
    if (!this.isMetadataSent) {
      this.isMetadataSent = true;
      parts.push({ type: 'response-metadata', id: chunk.id, modelId: chunk.model, timestamp: new Date(chunk.created * 1000) });
    }
    if (chunk.usage) this.usage = chunk.usage;
    // Detour asks for one choice; a translated stream never has more.
    const choice = chunk.choices.find((candidate) => candidate.index === 0);
    if (!choice) return parts;
    const text = choice.delta.content ?? choice.delta.refusal;
    if (typeof text === 'string' && text !== '') parts.push(...this.text(text));
    for (const delta of choice.delta.tool_calls ?? []) {
      let call = this.toolCalls.get(delta.index);
      if (!call) {
        call = { id: delta.id ?? `call-${delta.index}`, name: delta.function?.name ?? '', arguments: '' };
        this.toolCalls.set(delta.index, call);
        parts.push({ type: 'tool-input-start', id: call.id, toolName: call.name });
      }
      const piece = delta.function?.arguments;
      if (piece) {
        call.arguments += piece;
        parts.push({ type: 'tool-input-delta', id: call.id, delta: piece });
      }
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return parts;
  }

  /** Marks the stream as failed: its finish reason becomes `error`. */
  fail(): void {
    this.isFailed = true;
  }

  /** Closes what is open and reports the finish; `metadata` goes to the finish part. */
  finish(metadata: SharedV3ProviderMetadata): LanguageModelV3StreamPart[] {
    const parts: LanguageModelV3StreamPart[] = [];
    if (this.isTextOpen) parts.push({ type: 'text-end', id: textId });
    // A failed stream's half-received tool calls are not handed over: the SDK would run them.
    if (!this.isFailed) {
      for (const call of this.toolCalls.values()) {
        parts.push({ type: 'tool-input-end', id: call.id });
        parts.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.arguments === '' ? '{}' : call.arguments });
      }
    }
    const finishReason = this.isFailed ? { unified: 'error' as const, raw: undefined } : mapFinishReason(this.finishReason);
    parts.push({ type: 'finish', finishReason, usage: convertUsage(this.usage), providerMetadata: metadata });
    return parts;
  }

  private text(delta: string): LanguageModelV3StreamPart[] {
    const parts: LanguageModelV3StreamPart[] = [];
    if (!this.isTextOpen) {
      this.isTextOpen = true;
      parts.push({ type: 'text-start', id: textId });
    }
    parts.push({ type: 'text-delta', id: textId, delta });
    return parts;
  }
}
