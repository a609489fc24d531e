import { randomUUID } from 'node:crypto';
import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, stringField, tryParseJson } from '../shared/json.js';
import type { ChatChunk, ChunkDelta, FinishReason, SseEvent, StreamDecoder, StreamInspection, Usage } from '../types.js';
import { classifyGeminiStreamError } from './errors.js';
import { mapGeminiFinishReason } from './finish-reason.js';
import { applyPartialArgs } from './partial-args.js';
import { candidateParts, readResponsePart, ToolCallIds, type FunctionCallPart } from './parts.js';
import { createdSeconds, promptBlockReason } from './response.js';
import { readGeminiUsage } from './usage.js';

interface PendingCall {
  name: string;
  id: string | undefined;
  args: Record<string, unknown>;
}

/** What one candidate (one choice) has said so far. */
interface CandidateState {
  nextToolIndex: number;
  pending: PendingCall | undefined;
  isFinished: boolean;
}

/**
 * Decodes `streamGenerateContent?alt=sse`. Each event is a whole GenerateContentResponse
 * holding the new parts; there is no end marker: the answer is complete when every candidate
 * has a finish reason, which comes on the last event together with the final usage.
 * Function calls arrive whole (or, on Vertex, in pieces that are put together here) and are
 * emitted as one tool-call delta each, with the complete JSON arguments.
 */
export class GeminiStreamDecoder implements StreamDecoder {
  private complete = false;
  private meta: { id: string; model: string; created: number } | undefined;
  private ids: ToolCallIds | undefined;
  private usage: Usage | undefined;
  private hasStarted = false;
  private readonly candidates = new Map<number, CandidateState>();

  constructor(private readonly target: Target) {}

  get isComplete(): boolean {
    return this.complete;
  }

  /** Gemini has no end marker: its last event (the one with the finish reason and usage) is the end. */
  get isTerminated(): boolean {
    return this.complete;
  }

  decode(event: SseEvent): ChatChunk[] {
    const payload = tryParseJson(event.data);
    if (!isRecord(payload)) throw this.badEvent('an event that is not JSON');
    if (payload.error !== undefined && payload.error !== null) throw classifyGeminiStreamError(payload, this.target);
    if (this.complete) return [];
    this.meta ??= {
      id: stringField(payload, 'responseId') ?? `gemini-${randomUUID()}`,
      model: stringField(payload, 'modelVersion') ?? this.target.model,
      created: createdSeconds(payload),
    };
    this.ids ??= new ToolCallIds(stringField(payload, 'responseId'));
    this.usage = readGeminiUsage(payload) ?? this.usage;
    const chunks: ChatChunk[] = [];
    const candidates = Array.isArray(payload.candidates) ? payload.candidates : [];
    if (candidates.length === 0 && promptBlockReason(payload) !== undefined) {
      // The prompt was blocked: no candidate will ever come.
      this.candidateState(0, chunks).isFinished = true;
      chunks.push(this.chunk(0, {}, 'content_filter'));
    }
    candidates.forEach((candidate, position) => this.decodeCandidate(candidate, position, chunks));
    if (!this.hasStarted && chunks[0]) {
      // Gemini counts the prompt on its first chunk; Anthropic clients read it in message_start.
      this.hasStarted = true;
      if (this.usage) chunks[0] = { ...chunks[0], promptUsage: promptOnly(this.usage) };
    }
    if (this.candidates.size > 0 && [...this.candidates.values()].every((state) => state.isFinished)) {
      this.complete = true;
      if (this.usage) chunks.push({ ...this.base(), choices: [], usage: this.usage });
    }
    return chunks;
  }

  private decodeCandidate(candidate: unknown, position: number, chunks: ChatChunk[]): void {
    const record = isRecord(candidate) ? candidate : {};
    const index = typeof record.index === 'number' ? record.index : position;
    const state = this.candidateState(index, chunks);
    for (const raw of candidateParts(candidate)) {
      const part = readResponsePart(raw);
      if (part.type === 'text' && part.text !== '') chunks.push(this.chunk(index, { content: part.text }));
      else if (part.type === 'call') this.decodeCall(part.call, index, state, chunks);
    }
    const reason = stringField(record, 'finishReason');
    if (reason === undefined || state.isFinished) return;
    if (state.pending) this.emitCall(state.pending, index, state, chunks);
    state.isFinished = true;
    chunks.push(this.chunk(index, {}, mapGeminiFinishReason(reason, state.nextToolIndex > 0)));
  }

  /** A whole call is emitted at once; a call in pieces is gathered until its last piece. */
  private decodeCall(call: FunctionCallPart, index: number, state: CandidateState, chunks: ChatChunk[]): void {
    if (call.name !== undefined && state.pending) this.emitCall(state.pending, index, state, chunks);
    const pending = call.name !== undefined ? { name: call.name, id: call.id, args: { ...call.args } } : state.pending;
    if (!pending) return; // an empty continuation with nothing open carries nothing
    if (!applyPartialArgs(pending.args, call.partialArgs)) throw this.badEvent('function call arguments it could not read');
    if (call.willContinue) state.pending = pending;
    else this.emitCall(pending, index, state, chunks);
  }

  private emitCall(call: PendingCall, index: number, state: CandidateState, chunks: ChatChunk[]): void {
    state.pending = undefined;
    const id = (this.ids as ToolCallIds).next(call.id);
    const delta = { index: state.nextToolIndex++, id, type: 'function' as const, function: { name: call.name, arguments: JSON.stringify(call.args) } };
    chunks.push(this.chunk(index, { tool_calls: [delta] }));
  }

  /** A choice's first appearance opens it with the assistant role, as OpenAI streams do. */
  private candidateState(index: number, chunks: ChatChunk[]): CandidateState {
    let state = this.candidates.get(index);
    if (!state) {
      state = { nextToolIndex: 0, pending: undefined, isFinished: false };
      this.candidates.set(index, state);
      chunks.push(this.chunk(index, { role: 'assistant', content: '' }));
    }
    return state;
  }

  private base(): Omit<ChatChunk, 'choices'> {
    const meta = this.meta ?? { id: '', model: this.target.model, created: 0 };
    return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model };
  }

  private chunk(index: number, delta: ChunkDelta, finishReason: FinishReason | null = null): ChatChunk {
    return { ...this.base(), choices: [{ index, delta, finish_reason: finishReason }] };
  }

  private badEvent(what: string): DetourError {
    return new DetourError({ kind: 'retryable', code: 'UPSTREAM_BAD_RESPONSE', target: this.target.id, message: `${this.target.id} sent ${what} in its stream` });
  }
}

/** Usage so far with the completion left out: what is known of the prompt mid-stream. */
function promptOnly(usage: Usage): Usage {
  const prompt: Usage = { prompt_tokens: usage.prompt_tokens, completion_tokens: 0, total_tokens: usage.prompt_tokens };
  if (usage.prompt_tokens_details) prompt.prompt_tokens_details = usage.prompt_tokens_details;
  return prompt;
}

/** Watches a Gemini stream passed through to a Gemini client: errors, the finish, and usage (every event carries it). */
/** A chunk with a function call part (whole, or the first of its streamed `partialArgs`). */
export function isGeminiToolCallEvent(event: SseEvent): boolean {
  return event.data.includes('"functionCall"');
}

export function inspectGeminiEvent(event: SseEvent, _clientWantsUsage: boolean, target: Target): StreamInspection {
  const payload = tryParseJson(event.data);
  if (!isRecord(payload)) return { forward: true };
  if (payload.error !== undefined && payload.error !== null) return { error: classifyGeminiStreamError(payload, target), forward: false };
  const candidates = Array.isArray(payload.candidates) ? payload.candidates : [];
  const finished = candidates.some((candidate) => stringField(candidate, 'finishReason') !== undefined) || promptBlockReason(payload) !== undefined;
  // Gemini clients always get usage; there is nothing to hold back.
  return { finished, usage: readGeminiUsage(payload), forward: true };
}
