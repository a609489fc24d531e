/**
 * Anthropic Messages wire shapes, as far as Detour writes them (requests to an upstream, answers
 * to a client). What arrives from the network stays `unknown` and is read field by field.
 */

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}

export type AnthropicImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

export interface AnthropicImageBlock {
  type: 'image';
  source: AnthropicImageSource;
}

export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  /** A JSON value, normally an object; never a JSON string (unlike OpenAI's `arguments`). */
  input: unknown;
  /**
   * Who called the tool: `direct` (the model) for every call Detour translates. Required in
   * answers by Anthropic's SDK types, and strictly typed SDKs (Java, Kotlin) throw without it;
   * requests to an upstream leave it out.
   */
  caller?: AnthropicCaller;
}

/** A tool call's caller in an answer; Detour's translated calls are always the model's own. */
export type AnthropicCaller = { type: 'direct' } | { type: string; tool_id: string };

/** The caller of every tool call Detour translates from another format. */
export const directCaller = { type: 'direct' } as const satisfies AnthropicCaller;

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string | AnthropicTextBlock[];
}

export type AnthropicContentBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicToolUseBlock | AnthropicToolResultBlock;

export interface AnthropicMessageParam {
  role: 'user' | 'assistant';
  content: string | AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  strict?: boolean;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

/** The body of `POST /v1/messages` as Detour builds it from a canonical request. */
export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string | AnthropicTextBlock[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  output_config?: { format: { type: 'json_schema'; schema: Record<string, unknown> } };
  stream?: boolean;
}

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
}

/** A whole answer (`type: "message"`), as Detour sends it to an Anthropic client. */
export interface AnthropicMessageResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<AnthropicTextBlock | (AnthropicToolUseBlock & { caller: AnthropicCaller })>;
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** The media types Anthropic accepts for an image block. */
export const anthropicImageTypes: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
