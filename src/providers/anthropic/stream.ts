import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, stringField, tryParseJson } from '../shared/json.js';
import type { ChatChunk, ChunkDelta, FinishReason, SseEvent, StreamDecoder, StreamInspection } from '../types.js';
import { classifyAnthropicStreamError } from './errors.js';
import { toFinishReason } from './finish-reason.js';
import { refusalExplanation } from './response.js';
import { fromAnthropicUsage, mergeAnthropicUsage } from './usage.js';

interface ToolBlock {
  /** The tool call's `index` in OpenAI's terms: its position among the answer's tool calls. */
  index: number;
  hasArguments: boolean;
  /** The input given whole in `content_block_start`, if any (the API sends `{}` and streams the rest). */
  startInput: string | undefined;
}

/**
 * Decodes an Anthropic Messages stream into canonical chunks. Holds what translation needs
 * across events: the message id and model from `message_start`, the usage so far (`message_delta`
 * repeats cumulative totals and omits what does not apply), and which content block is which
 * tool call.
 */
export class AnthropicStreamDecoder implements StreamDecoder {
  private complete = false;
  private id = '';
  private model: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private usage: Record<string, unknown> | undefined;
  private readonly tools = new Map<number, ToolBlock>();
  private terminated = false;

  constructor(private readonly target: Target) {
    this.model = target.model;
  }

  /**
   * True after `message_stop`, or once `message_delta` has given the stop reason: everything the
   * answer consists of has arrived, so a connection closed before `message_stop` loses nothing.
   */
  get isComplete(): boolean {
    return this.complete;
  }

  get isTerminated(): boolean {
    return this.terminated;
  }

  decode(event: SseEvent): ChatChunk[] {
    const payload = tryParseJson(event.data);
    if (event.event === 'error' || (isRecord(payload) && payload.type === 'error')) throw classifyAnthropicStreamError(payload, this.target);
    if (!isRecord(payload)) throw badEvent(this.target);
    switch (payload.type ?? event.event) {
      case 'message_start':
        return this.messageStart(payload.message);
      case 'content_block_start':
        return this.blockStart(blockIndex(payload), payload.content_block);
      case 'content_block_delta':
        return this.blockDelta(blockIndex(payload), payload.delta);
      case 'content_block_stop':
        return this.blockStop(blockIndex(payload));
      case 'message_delta':
        return this.messageDelta(payload);
      case 'message_stop':
        this.complete = true;
        this.terminated = true;
        return [];
      default:
        // `ping`, and event types newer than this code: the SDK skips them too.
        return [];
    }
  }

  private chunk(delta: ChunkDelta, finishReason: FinishReason | null = null): ChatChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finishReason }] };
  }

  private messageStart(message: unknown): ChatChunk[] {
    this.id = stringField(message, 'id') ?? this.id;
    this.model = stringField(message, 'model') ?? this.model;
    if (isRecord(message)) this.usage = mergeAnthropicUsage(undefined, message.usage);
    const first = this.chunk({ role: 'assistant', content: '' });
    // The prompt is counted in message_start: clients whose format says it early (Gemini) get it too.
    const told = fromAnthropicUsage(this.usage);
    if (told && told.prompt_tokens > 0) {
      first.promptUsage = { prompt_tokens: told.prompt_tokens, completion_tokens: 0, total_tokens: told.prompt_tokens };
      if (told.prompt_tokens_details) first.promptUsage.prompt_tokens_details = told.prompt_tokens_details;
    }
    return [first];
  }

  private blockStart(index: number, block: unknown): ChatChunk[] {
    if (!isRecord(block)) return [];
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return [this.chunk({ content: block.text })];
    if (block.type !== 'tool_use') return []; // thinking and server-tool blocks have no canonical slot
    const tool: ToolBlock = {
      index: this.tools.size,
      hasArguments: false,
      startInput: isRecord(block.input) && Object.keys(block.input).length > 0 ? JSON.stringify(block.input) : undefined,
    };
    this.tools.set(index, tool);
    const name = stringField(block, 'name') ?? '';
    return [this.chunk({ tool_calls: [{ index: tool.index, id: stringField(block, 'id') ?? '', type: 'function', function: { name, arguments: '' } }] })];
  }

  private blockDelta(index: number, delta: unknown): ChatChunk[] {
    if (!isRecord(delta)) return [];
    if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '') return [this.chunk({ content: delta.text })];
    const tool = this.tools.get(index);
    if (delta.type !== 'input_json_delta' || !tool || typeof delta.partial_json !== 'string' || delta.partial_json === '') return [];
    tool.hasArguments = true;
    return [this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: delta.partial_json } }] })];
  }

  /** A tool call without parameters streams no JSON at all: OpenAI clients still need `{}` to parse. */
  private blockStop(index: number): ChatChunk[] {
    const tool = this.tools.get(index);
    if (!tool || tool.hasArguments) return [];
    tool.hasArguments = true;
    return [this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: tool.startInput ?? '{}' } }] })];
  }

  private messageDelta(payload: Record<string, unknown>): ChatChunk[] {
    this.usage = mergeAnthropicUsage(this.usage, payload.usage);
    const chunks: ChatChunk[] = [];
    const delta = isRecord(payload.delta) ? payload.delta : {};
    if (typeof delta.stop_reason === 'string') {
      const finishReason = toFinishReason(delta.stop_reason);
      const refusal = finishReason === 'content_filter' ? refusalExplanation(delta) : null;
      chunks.push(this.chunk(refusal ? { refusal } : {}, finishReason));
      this.complete = true;
    }
    const usage = fromAnthropicUsage(this.usage);
    if (usage) chunks.push({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage });
    return chunks;
  }
}

function blockIndex(payload: Record<string, unknown>): number {
  return typeof payload.index === 'number' ? payload.index : -1;
}

function badEvent(target: Target): DetourError {
  return new DetourError({
    kind: 'retryable',
    code: 'UPSTREAM_BAD_RESPONSE',
    target: target.id,
    message: `${target.id} sent a stream event that is not JSON`,
  });
}

/**
 * Watches one event of an Anthropic stream passed through to an Anthropic client. The event name
 * says what it is, so only `message_start`, `message_delta` and `error` are parsed; the bulk of
 * the stream (content deltas) is forwarded untouched. Every event goes to the client: an
 * Anthropic stream always carries usage, the client did not have to ask for it.
 */
/** The start of a `tool_use` block (also `server_tool_use`, `mcp_tool_use`): its input follows in `input_json_delta`s. */
export function isAnthropicToolCallEvent(event: SseEvent): boolean {
  const isBlockStart = event.event === undefined ? event.data.includes('"content_block_start"') : event.event === 'content_block_start';
  return isBlockStart && event.data.includes('tool_use"');
}

export function inspectAnthropicEvent(event: SseEvent, _clientWantsUsage: boolean, target: Target): StreamInspection {
  const name = event.event ?? stringField(tryParseJson(event.data), 'type');
  switch (name) {
    case 'message_stop':
      return { done: true, forward: true };
    case 'message_start': {
      const payload = tryParseJson(event.data);
      const message = isRecord(payload) ? payload.message : undefined;
      return { usage: isRecord(message) ? fromAnthropicUsage(message.usage) : undefined, forward: true };
    }
    case 'message_delta': {
      const payload = tryParseJson(event.data);
      if (!isRecord(payload)) return { forward: true };
      const finished = isRecord(payload.delta) && typeof payload.delta.stop_reason === 'string';
      return { finished, usage: fromAnthropicUsage(payload.usage), forward: true };
    }
    case 'error':
      return { error: classifyAnthropicStreamError(tryParseJson(event.data), target), forward: false };
    default:
      return { forward: true };
  }
}
