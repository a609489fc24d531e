/**
 * The canonical request, response and stream events: OpenAI Chat Completions as the lingua
 * franca, typed strictly. Every adapter translates to and from these.
 */
import type { DetourError } from '../core/errors.js';
import type { Target } from '../core/settings.js';
import type { Usage, WireFormat } from '../core/events.js';
import type { RawJson } from './shared/raw-json.js';

export type { Usage, WireFormat };

export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}
export type UserContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: 'function';
  /** `arguments` is a JSON string, as OpenAI sends it. */
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | TextPart[]; name?: string }
  | { role: 'user'; content: string | UserContentPart[]; name?: string }
  | {
      role: 'assistant';
      content?: string | Array<TextPart | RefusalPart> | null;
      refusal?: string | null;
      tool_calls?: ToolCall[];
      name?: string;
    }
  | { role: 'tool'; tool_call_id: string; content: string | TextPart[] };

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  n?: number;
  stop?: string | string[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: ResponseFormat;
  seed?: number;
  user?: string;
  /** How hard a reasoning model thinks (`low`, `medium`, `high`...); passed on where the upstream takes it. */
  reasoning_effort?: string;
  /** Fields of the client's request that have no canonical slot; a translating adapter must refuse them, never drop them. */
  extra?: Record<string, unknown>;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ResponseMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ToolCall[];
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{ index: number; message: ResponseMessage; finish_reason: FinishReason | null; logprobs: null }>;
  usage?: Usage;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ToolCallDelta[];
}

/** A canonical stream event: one OpenAI `chat.completion.chunk`. */
export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: ChunkDelta; finish_reason: FinishReason | null; logprobs?: null }>;
  usage?: Usage | null;
  /**
   * The prompt's size when the upstream tells it before the end (Gemini's first chunk), with no
   * completion counted: for encoders that report the prompt at the start (Anthropic's
   * `message_start`). Not part of OpenAI's chunk: never written to the wire as it is.
   */
  promptUsage?: Usage | undefined;
}

/** One server-sent event; `raw` is its text as received, without the blank line that ended it. */
export interface SseEvent {
  event: string | undefined;
  data: string;
  raw: string;
}

export interface UpstreamRequest {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  /** Bytes for a client's own body passed through (`RawJson`), a string when Detour wrote it. */
  body?: string | Buffer;
}

/** What watching one event of a same-format stream found. */
export interface StreamInspection {
  /** The stream's own end marker (`[DONE]`, `message_stop`). */
  done?: boolean;
  /** A finish reason was seen: the answer is complete even if no end marker follows. */
  finished?: boolean;
  usage?: Usage;
  /** An error reported inside the stream. */
  error?: DetourError;
  /** Whether the event goes to the client (false for a usage event the client did not ask for). */
  forward: boolean;
}

/** Decodes one upstream stream into canonical chunks; holds the per-stream state translation needs. */
export interface StreamDecoder {
  /** Canonical chunks for one event; throws a classified DetourError for an in-stream error. */
  decode(event: SseEvent): ChatChunk[];
  /** Whether the upstream has signalled the end of the answer. */
  readonly isComplete: boolean;
  /**
   * Whether the stream's own end marker has arrived (`[DONE]`, `message_stop`; for Gemini, its
   * last event): nothing more will come, so the reader need not wait for the connection to end.
   */
  readonly isTerminated: boolean;
}

/** Parts of the client's HTTP request that a same-format upstream receives as they came. */
export interface ForwardedParts {
  /** Headers by lower-case name (only those the ingress chose to forward, e.g. `anthropic-beta`). */
  headers: Readonly<Record<string, string>>;
  /** The query string without its `?` (e.g. `beta=true`), or empty. */
  query: string;
}

/** Options the engine passes when building an upstream call. */
export interface BuildOptions {
  stream: boolean;
  /** The client's forwarded headers and query, for a pass-through request only. */
  forward?: ForwardedParts | undefined;
  /** The client's own text of a pass-through body (`RawJson`): sent with the model replaced instead of the body serialized again. */
  raw?: RawJson | undefined;
  /** Ask the upstream for usage in the stream even if the client did not (for cost accounting). */
  wantStreamUsage: boolean;
}

/**
 * The upstream face of one wire format. Adding a provider means one folder implementing this
 * and one line in the registry.
 */
export interface ProviderAdapter {
  readonly format: WireFormat;
  /** Builds the upstream call from the canonical request; throws a DetourError naming the target for a feature it cannot express. */
  buildRequest(request: ChatRequest, target: Target, options: BuildOptions): UpstreamRequest;
  /** The fast path: a body already in this format, forwarded with only the model replaced. */
  buildPassThroughRequest(body: Record<string, unknown>, target: Target, options: BuildOptions): UpstreamRequest;
  parseResponse(body: unknown, target: Target): ChatResponse;
  createStreamDecoder(target: Target): StreamDecoder;
  /** Watches one event of a stream that is passed through untranslated. */
  inspectEvent(event: SseEvent, clientWantsUsage: boolean, target: Target): StreamInspection;
  /**
   * Whether a passed-through event begins or carries a tool call (a cheap look, no parse): a
   * stream that may be continued holds tool calls back until the answer is whole. Absent, a
   * passed-through stream of this format holds nothing back.
   */
  isToolCallEvent?(event: SseEvent): boolean;
  /** Reads usage out of a non-streaming response body in this format. */
  readUsage(body: unknown): Usage | undefined;
  classifyError(status: number, headers: Record<string, string | string[] | undefined>, bodyText: string, target: Target, now: number): DetourError;
  /** A cheap request that tells whether the target is up (its models list). */
  buildProbe(target: Target): UpstreamRequest;
}

/** What the engine needs to answer a client in its own format. */
export interface StreamEncoder {
  /** Text to write for one canonical chunk (may be empty). */
  encode(chunk: ChatChunk): string;
  /** Text that ends a stream cleanly. */
  end(): string;
  /** Text that ends a stream with an explicit error event. */
  error(error: ErrorPayload): string;
  /**
   * For a format whose events carry a position (the Responses API's `sequence_number` and item
   * ids): the client's passed-through stream ended with `passedThrough`, so number on after it
   * and name its open message as it did. Formats without such state leave it out.
   */
  resumeAfter?(passedThrough: string): void;
}

/** An error ready to be rendered in a client's format. */
export interface ErrorPayload {
  status: number;
  code: string;
  message: string;
  param?: string | undefined;
  /** Extra fields for Detour's own errors (the attempts that were made). */
  details?: Record<string, unknown> | undefined;
}

/**
 * The client-facing face of one wire format: how requests arrive and answers leave.
 */
export interface IngressCodec {
  readonly format: WireFormat;
  /** Validates a parsed body and returns the route name, whether it streams, and whether the client asked for stream usage. Throws a fatal DetourError. */
  inspectRequest(body: unknown): { route: string; stream: boolean; wantsUsage: boolean };
  /** The body as a canonical request (called only when translation is needed). */
  toCanonical(body: Record<string, unknown>): ChatRequest;
  encodeResponse(response: ChatResponse): string;
  createStreamEncoder(options: { wantsUsage: boolean; route: string }): StreamEncoder;
  encodeError(error: ErrorPayload): string;
  /** Content type of a stream in this format. */
  readonly streamContentType: string;
  /** What ends a passed-through stream whose upstream finished without its own end marker. */
  readonly streamEndMarker: string;
  /** Request headers (lower case) that go on to a same-format upstream as the client sent them (Anthropic's betas). */
  readonly forwardedHeaders?: readonly string[];
  /** What a translation of this body leaves behind for lack of an equivalent, for the debug log. */
  droppedFeatures?(body: Record<string, unknown>): string[];
}
