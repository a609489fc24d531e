/**
 * The request and answer shapes the library's typed methods take and give: OpenAI Chat
 * Completions (Detour's canonical shape) and Anthropic Messages. They name the fields Detour
 * reads or writes; the top level of a request takes any other field the API knows, checked at
 * run time by the same validation as the server's.
 */
import type {
  AnthropicMessageResponse,
  AnthropicRequestBody,
  AnthropicStopReason,
  AnthropicTextBlock,
  AnthropicToolUseBlock,
  AnthropicUsage,
} from '../providers/anthropic/wire.js';
import type { ChatChunk, ChatRequest, ChatResponse } from '../providers/types.js';

/** An OpenAI Chat Completions request (`model` names a Detour route or `provider/model`). `stream` is set by the method called. */
export type ChatCompletionRequest = Omit<ChatRequest, 'extra' | 'stream'> & { [field: string]: unknown };

/** An OpenAI embeddings request (`model` names a route of `kind: embeddings`); `input` a string, strings, tokens or token arrays. */
export interface EmbeddingsCreateRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  /** `float` (default) or `base64` (little-endian float32, as OpenAI sends it). */
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [field: string]: unknown;
}

/** OpenAI's embeddings answer: one vector per input, in input order (a base64 string when asked for). */
export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** An OpenAI `chat.completion`. */
export type ChatCompletion = ChatResponse;

/** An OpenAI `chat.completion.chunk`. */
export type ChatCompletionChunk = ChatChunk;

/** An Anthropic Messages request (`model` names a Detour route or `provider/model`). `stream` is set by the method called. */
export type AnthropicMessagesRequest = Omit<AnthropicRequestBody, 'stream' | 'output_config'> & { [field: string]: unknown };

/** An Anthropic `message`. An answer passed through from an Anthropic upstream may hold more block types (`thinking`). */
export type AnthropicMessage = AnthropicMessageResponse;

/** A content block as it starts in a stream. */
export type AnthropicStreamBlock = AnthropicTextBlock | AnthropicToolUseBlock | { type: 'thinking'; thinking: string; signature?: string };

export type AnthropicStreamDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string };

/** One event of an Anthropic Messages stream (`ping` is dropped; an `error` event is thrown). */
export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessage }
  | { type: 'content_block_start'; index: number; content_block: AnthropicStreamBlock }
  | { type: 'content_block_delta'; index: number; delta: AnthropicStreamDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: AnthropicStopReason | null; stop_sequence: string | null };
      usage: Partial<AnthropicUsage> & { output_tokens: number };
    }
  | { type: 'message_stop' };
