import { continuationInstruction, estimateTokens, mayStillOverlap, overlapLength, sumUsage } from '../core/continuation.js';
import type { WireFormat } from '../core/events.js';
import type { Target } from '../core/settings.js';
import type { ChatChunk, ChatRequest, StreamDecoder, Usage } from '../providers/types.js';
import { emptyPiece, interruptedError, maxHeldToolCallChars, type StreamPiece, type StreamProcessor } from './stream-processor.js';
import type { StreamWatch } from './stream-watch.js';

/**
 * Continuing a broken stream at the canonical level: the broken attempt's events are decoded
 * into canonical chunks (whatever its wire format), the continuation's too, and the gateway's
 * encoder for the client (whatever its format) writes the result, primed with the part the
 * client already has so that it carries on inside the same message and content block.
 */

/** What a broken stream had sent the client before it broke, as canonical chunks. */
export interface PartialAnswer {
  text: string;
  chunks: ChatChunk[];
  /** A tool call had reached the client: its arguments cannot be continued. */
  hasToolCall: boolean;
  /** The usage the broken attempt reported in what it sent, if any. */
  usage: Usage | undefined;
}

/**
 * Decodes what a watched stream sent the client: its first `releasedEvents` events (all of them
 * when undefined; the rest were held back, a tool call not yet whole). Undefined when it cannot
 * be known (too long to keep).
 */
export function partialAnswer(watch: StreamWatch, releasedEvents?: number): PartialAnswer | undefined {
  if (watch.isOverflowed) return undefined;
  const decoder = watch.adapter.createStreamDecoder(watch.target);
  const partial: PartialAnswer = { text: '', chunks: [], hasToolCall: false, usage: undefined };
  const events = releasedEvents === undefined ? watch.events : watch.events.slice(0, releasedEvents);
  for (const event of events) {
    let chunks: ChatChunk[];
    try {
      chunks = decoder.decode(event);
    } catch {
      break;
    }
    for (const chunk of chunks) {
      partial.chunks.push(chunk);
      if (chunk.usage) partial.usage = chunk.usage;
      const delta = chunk.choices[0]?.delta;
      if (typeof delta?.content === 'string') partial.text += delta.content;
      if (delta?.tool_calls && delta.tool_calls.length > 0) partial.hasToolCall = true;
    }
  }
  return partial;
}

/**
 * The request that asks for the rest of an answer: for Anthropic the partial answer as an
 * assistant prefill (sent without trailing whitespace, which Anthropic refuses); for OpenAI and
 * Gemini an assistant message with it and an instruction to continue exactly where it stopped.
 */
export function continuationRequest(request: ChatRequest, prefix: string, format: WireFormat): ChatRequest {
  // Nothing of the answer reached the client (a tool call was held back whole): the request is simply sent again.
  if (prefix === '') return { ...request, stream: true, n: undefined };
  const messages = [...request.messages];
  if (format === 'anthropic') messages.push({ role: 'assistant', content: prefix.trimEnd() });
  else messages.push({ role: 'assistant', content: prefix }, { role: 'user', content: continuationInstruction });
  return { ...request, messages, stream: true, n: undefined };
}

/** What the client is told about a continued stream, in its final event. */
export interface ContinuationMark {
  continued: true;
  /** How many times the stream was continued. */
  count: number;
  /** The targets that served it, in order. */
  targets: string[];
}

/**
 * Turns a continuation's upstream events into the rest of the client's stream, as canonical
 * chunks: decoded, the repetition of the prefix removed, role deltas dropped (the client has its
 * role), usage summed with the broken attempt's. Once the answer's finish reason has come, the
 * tail is held to the end, so that the end piece carries the mark into the final event; a tool
 * call is held from its start (as by the other processors), so that a continuation that breaks
 * inside one can be continued again.
 */
export class ContinuationProcessor implements StreamProcessor {
  /** The text this continuation sent the client. */
  text = '';
  /** A tool call of this continuation reached the client. */
  hasToolCall = false;
  private pending = '';
  private pendingChunk: ChatChunk | undefined;
  private isOverlapDecided = false;
  private isFinishSeen = false;
  /** Chunks held back: a tool call not yet whole, or everything after the finish reason. */
  private tail: ChatChunk[] = [];
  private isToolCallHeld = false;
  private heldChars = 0;
  private ownUsage: Usage | undefined;

  constructor(
    private readonly decoder: StreamDecoder,
    private readonly target: Target,
    /** The answer the client had before this continuation. */
    readonly prefix: string,
    /** The broken attempts' usage, known or estimated. */
    private readonly priorUsage: Usage | undefined,
    private readonly mark: () => ContinuationMark,
  ) {}

  get isDone(): boolean {
    return this.decoder.isComplete;
  }

  get isTerminal(): boolean {
    return this.decoder.isTerminated;
  }

  get isHolding(): boolean {
    return this.isToolCallHeld;
  }

  get usage(): Usage | undefined {
    return sumUsage(this.priorUsage, this.ownUsage);
  }

  process(events: Parameters<StreamProcessor['process']>[0]): StreamPiece {
    const out: ChatChunk[] = [];
    for (const event of events) for (const chunk of this.decoder.decode(event)) this.chunk(chunk, out);
    return out.length > 0 ? { text: '', chunks: out, isEnd: false } : emptyPiece;
  }

  end(): StreamPiece {
    if (!this.decoder.isComplete) throw interruptedError(this.target);
    const out = this.tail;
    this.tail = [];
    if (!this.isOverlapDecided) this.decide(out);
    return { text: '', chunks: out, isEnd: true, mark: { ...this.mark() } };
  }

  private chunk(chunk: ChatChunk, out: ChatChunk[]): void {
    if (chunk.usage) this.ownUsage = chunk.usage;
    const choice = chunk.choices[0];
    const delta = choice?.delta;
    const hasToolCalls = (delta?.tool_calls?.length ?? 0) > 0;
    const isMore = Boolean(choice?.finish_reason) || hasToolCalls || Boolean(chunk.usage);
    if (this.isOverlapDecided) return this.emit(chunk, out);
    if (choice && typeof delta?.content === 'string' && delta.content !== '') {
      this.pending += delta.content;
      this.pendingChunk = chunk;
      if (!isMore && mayStillOverlap(this.prefix, this.pending)) return;
      this.decide(out);
      // The chunk's other parts (its finish reason, tool calls, usage) follow the text.
      if (isMore) this.emit({ ...chunk, choices: [{ ...choice, delta: { ...delta, content: undefined } }] }, out);
      return;
    }
    if (isMore) this.decide(out);
    this.emit(chunk, out);
  }

  /** Decides the overlap on what is pending and writes the rest of it. */
  private decide(out: ChatChunk[]): void {
    this.isOverlapDecided = true;
    const chunk = this.pendingChunk;
    const text = this.pending.slice(overlapLength(this.prefix, this.pending));
    this.pending = '';
    this.pendingChunk = undefined;
    const choice = chunk?.choices[0];
    if (!chunk || !choice || !text) return;
    this.emit({ ...chunk, usage: undefined, choices: [{ ...choice, finish_reason: null, delta: { content: text } }] }, out);
  }

  private emit(chunk: ChatChunk, out: ChatChunk[]): void {
    const choice = chunk.choices[0];
    const delta = choice?.delta;
    const toolCalls = delta?.tool_calls ?? [];
    const hasContent = (typeof delta?.content === 'string' && delta.content !== '') || toolCalls.length > 0 || Boolean(delta?.refusal);
    // A chunk left with nothing (a role the client already has) is not written at all.
    if (!hasContent && !choice?.finish_reason && !chunk.usage) return;
    const written: ChatChunk = { ...chunk, usage: chunk.usage ? this.usage : chunk.usage, choices: choice && delta ? [{ ...choice, delta: { ...delta, role: undefined } }] : chunk.choices };
    if (toolCalls.length > 0 && !this.hasToolCall) this.isToolCallHeld = true;
    if (choice?.finish_reason) this.isFinishSeen = true;
    if (this.isToolCallHeld || this.isFinishSeen) {
      this.tail.push(written);
      for (const call of toolCalls) this.heldChars += call.function?.arguments?.length ?? 0;
      if (this.isFinishSeen || this.heldChars <= maxHeldToolCallChars) return;
      // Past the bound a tool call flows as it comes; a break after this is not continued.
      this.isToolCallHeld = false;
      for (const held of this.tail.splice(0)) this.sent(held, out);
      return;
    }
    this.sent(written, out);
  }

  private sent(chunk: ChatChunk, out: ChatChunk[]): void {
    const delta = chunk.choices[0]?.delta;
    if (typeof delta?.content === 'string') this.text += delta.content;
    if ((delta?.tool_calls?.length ?? 0) > 0) this.hasToolCall = true;
    out.push(chunk);
  }
}

/** The broken attempt's usage: what it reported, else an estimate of the prompt (from the continuation's) and of the partial answer. */
export function priorUsageOf(partial: PartialAnswer): Usage {
  const completion = partial.usage?.completion_tokens || estimateTokens(partial.text);
  const prompt = partial.usage?.prompt_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
