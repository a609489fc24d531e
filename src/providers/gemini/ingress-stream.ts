import { formatSse } from '../shared/sse.js';
import type { ChatChunk, ErrorPayload, StreamEncoder, Usage } from '../types.js';
import { toGeminiFinishReason } from './finish-reason.js';
import { functionCallPart, geminiCandidate, geminiErrorBody } from './ingress-encode.js';
import type { GeminiCandidate, GeminiPart, GeminiResponseBody, GeminiUsageMetadata } from './schema.js';
import { toGeminiUsageMetadata } from './usage.js';

interface CallInProgress {
  name: string;
  argumentsText: string;
}

/**
 * Canonical chunks as a Gemini SSE stream: `data: <GenerateContentResponse>` events and no end
 * marker. Text goes out as it comes. Tool calls are gathered (OpenAI streams their arguments
 * in fragments, Gemini sends each call whole) and go out with the finish. The event with the
 * finish is held back until usage arrives, because Gemini puts the final usage on that last
 * event; if no usage comes, `end()` sends it as it is.
 */
export class GeminiStreamEncoder implements StreamEncoder {
  private readonly calls = new Map<number, Map<number, CallInProgress>>();
  /** Refusal text by choice: Gemini has no refusal part; it goes out as the finish's `finishMessage`. */
  private readonly refusals = new Map<number, string>();
  private heldFinish: GeminiResponseBody | undefined;
  /** The prompt's count, once a chunk has told it (usage without the answer's tokens). */
  private promptUsage: GeminiUsageMetadata | undefined;
  private modelVersion = '';
  private responseId = '';

  encode(chunk: ChatChunk): string {
    this.modelVersion = chunk.model;
    this.responseId = chunk.id;
    if (chunk.promptUsage) this.promptUsage ??= toGeminiUsageMetadata(chunk.promptUsage);
    let out = '';
    const candidates = chunk.choices.map((choice) => this.candidate(choice)).filter((candidate): candidate is GeminiCandidate => candidate !== undefined);
    const isFinish = candidates.some((candidate) => candidate.finishReason !== undefined);
    if (candidates.length > 0) {
      const body = this.body(candidates);
      if (!isFinish) out += formatSse(JSON.stringify(body));
      else {
        out += this.flushHeld();
        this.heldFinish = body;
      }
    }
    if (chunk.usage) out += this.withUsage(chunk.usage);
    return out;
  }

  end(): string {
    return this.flushHeld();
  }

  error(error: ErrorPayload): string {
    // js-genai throws an ApiError for an event whose `error.code` is an HTTP error code.
    return formatSse(JSON.stringify(geminiErrorBody(error)));
  }

  private candidate(choice: ChatChunk['choices'][number]): GeminiCandidate | undefined {
    const parts: GeminiPart[] = [];
    const delta = choice.delta;
    if (typeof delta.content === 'string' && delta.content !== '') parts.push({ text: delta.content });
    const calls = this.calls.get(choice.index) ?? new Map<number, CallInProgress>();
    this.calls.set(choice.index, calls);
    for (const fragment of delta.tool_calls ?? []) {
      const call = calls.get(fragment.index) ?? { name: '', argumentsText: '' };
      call.name = fragment.function?.name ?? call.name;
      call.argumentsText += fragment.function?.arguments ?? '';
      calls.set(fragment.index, call);
    }
    if (typeof delta.refusal === 'string') this.refusals.set(choice.index, (this.refusals.get(choice.index) ?? '') + delta.refusal);
    if (choice.finish_reason === null || choice.finish_reason === undefined) return parts.length > 0 ? geminiCandidate(choice.index, parts, undefined) : undefined;
    for (const call of [...calls.entries()].sort(([a], [b]) => a - b).map(([, value]) => value)) parts.push(functionCallPart(call.name, call.argumentsText));
    calls.clear();
    const refusal = this.refusals.get(choice.index);
    this.refusals.delete(choice.index);
    return geminiCandidate(choice.index, parts, toGeminiFinishReason(choice.finish_reason), refusal);
  }

  /** Gemini counts the prompt on every event: an event before the final usage carries what is known of it. */
  private body(candidates: GeminiCandidate[]): GeminiResponseBody {
    const body: GeminiResponseBody = { candidates, modelVersion: this.modelVersion, responseId: this.responseId };
    if (this.promptUsage) body.usageMetadata = this.promptUsage;
    return body;
  }

  private withUsage(usage: Usage): string {
    const usageMetadata = toGeminiUsageMetadata(usage);
    const held = this.heldFinish;
    this.heldFinish = undefined;
    const body: GeminiResponseBody = held ? { ...held, usageMetadata } : { usageMetadata, modelVersion: this.modelVersion, responseId: this.responseId };
    return formatSse(JSON.stringify(body));
  }

  private flushHeld(): string {
    const held = this.heldFinish;
    this.heldFinish = undefined;
    return held ? formatSse(JSON.stringify(held)) : '';
  }
}
