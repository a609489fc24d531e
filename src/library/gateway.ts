import type { EngineEvents } from '../core/events.js';
import type { DetourConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import type { TargetSnapshot } from '../engine/target-snapshot.js';
import type { Observability } from '../observability/observability.js';
import type { GatewayCore } from '../gateway/gateway-core.js';
import { createFetchHandler, type FetchFunction } from './fetch-handler.js';
import { callForBody, callForStream, type CallOptions, type CallResult, type CallTarget } from './in-process-call.js';
import type { ClientFormat } from './client-formats.js';
import type { ResultStream } from './result-stream.js';
import type {
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicStreamEvent,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingsCreateRequest,
  EmbeddingsResponse,
} from './wire-types.js';

/** The engine's events, by name: what the server's logs, metrics and alerts are fed from. */
export type GatewayEvents = EngineEvents;

/**
 * Detour in process: the server's engine, config and events without the server. Every method
 * takes the same path as an HTTP request (parse, validate, route, attempt loop), so failover,
 * retries, timeouts and stream handling behave exactly as they do behind the proxy.
 */
export interface Gateway {
  /** The validated, frozen config the gateway runs. */
  readonly config: DetourConfig;
  /**
   * An OpenAI Chat Completions call. Resolves with the completion and who served it; rejects
   * with a `GatewayError` for any error answer (the client's mistake, an upstream's refusal,
   * every target failing), or with the signal's reason when aborted.
   */
  chat(request: ChatCompletionRequest, options?: CallOptions): Promise<CallResult<ChatCompletion>>;
  /** A streamed OpenAI Chat Completions call, resolved once its first chunk has arrived. */
  chatStream(request: ChatCompletionRequest, options?: CallOptions): Promise<ResultStream<ChatCompletionChunk>>;
  /** An Anthropic Messages call; as `chat`, in Anthropic's shape. */
  messages(request: AnthropicMessagesRequest, options?: CallOptions): Promise<CallResult<AnthropicMessage>>;
  /** A streamed Anthropic Messages call, resolved once its first event has arrived. */
  messagesStream(request: AnthropicMessagesRequest, options?: CallOptions): Promise<ResultStream<AnthropicStreamEvent>>;
  /** An OpenAI embeddings call on a route of `kind: embeddings`; as `chat`, with failover only between targets of the same vectors. */
  embeddings(request: EmbeddingsCreateRequest, options?: CallOptions): Promise<CallResult<EmbeddingsResponse>>;
  /**
   * The server's HTTP API as a `fetch` function, for the official SDKs:
   * `new OpenAI({ apiKey: 'unused', baseURL: 'http://detour.local/v1', fetch: gateway.fetch })`.
   * Any host will do: no connection is made to it.
   */
  readonly fetch: FetchFunction;
  /** Listens to an engine event; returns the function that stops listening. Listeners run on the request path: keep them cheap. */
  on<K extends keyof GatewayEvents>(event: K, listener: (payload: GatewayEvents[K]) => void): () => void;
  off<K extends keyof GatewayEvents>(event: K, listener: (payload: GatewayEvents[K]) => void): void;
  /** The route names this gateway serves (what `GET /v1/models` lists). */
  routes(): string[];
  /**
   * Every configured target's live state, from the engine (as `/admin/api/targets` shows it):
   * circuit and cooldown, health, EWMA latency and time to first token, success rate, requests
   * in flight. Never holds a key.
   */
  targets(): TargetSnapshot[];
  /**
   * This gateway's Prometheus metrics in the text exposition format, as the server's `/metrics`
   * gives them. Needs `createGateway(config, { observability: true })`; rejects otherwise.
   */
  metrics(): Promise<string>;
  /** Closes upstream connections and stops the gateway's timers, so the process can exit. Calls after it reject. */
  close(): Promise<void>;
}

/** The opt-in observability a gateway may run (the server's own). */
export type GatewayObservability = Observability;

export interface GatewayParts {
  config: DetourConfig;
  /** The transport-free gateway every method goes through. */
  core: GatewayCore;
  observability?: GatewayObservability | undefined;
  /** Stops observability, the engine and its state store (Redis, when configured). */
  release(): Promise<void>;
}

/** The one implementation of `Gateway`, over an engine built from a validated config. */
export class DetourGateway implements Gateway {
  readonly config: DetourConfig;
  readonly fetch: FetchFunction;
  private readonly engine: Engine;
  private closing: Promise<void> | undefined;

  constructor(private readonly parts: GatewayParts) {
    this.config = parts.config;
    this.engine = parts.core.engine;
    this.fetch = createFetchHandler({ gateway: parts.core, assertOpen: () => this.assertOpen() });
  }

  async chat(request: ChatCompletionRequest, options: CallOptions = {}): Promise<CallResult<ChatCompletion>> {
    return callForBody(this.target('openai', '/v1/chat/completions'), withoutStream(request), options);
  }

  async chatStream(request: ChatCompletionRequest, options: CallOptions = {}): Promise<ResultStream<ChatCompletionChunk>> {
    return callForStream(this.target('openai', '/v1/chat/completions'), { ...request, stream: true }, options);
  }

  async messages(request: AnthropicMessagesRequest, options: CallOptions = {}): Promise<CallResult<AnthropicMessage>> {
    return callForBody(this.target('anthropic', '/v1/messages'), withoutStream(request), options);
  }

  async messagesStream(request: AnthropicMessagesRequest, options: CallOptions = {}): Promise<ResultStream<AnthropicStreamEvent>> {
    return callForStream(this.target('anthropic', '/v1/messages'), { ...request, stream: true }, options);
  }

  async embeddings(request: EmbeddingsCreateRequest, options: CallOptions = {}): Promise<CallResult<EmbeddingsResponse>> {
    return callForBody(this.target('openai', '/v1/embeddings'), request, options);
  }

  on<K extends keyof GatewayEvents>(event: K, listener: (payload: GatewayEvents[K]) => void): () => void {
    return this.engine.events.on(event, listener);
  }

  off<K extends keyof GatewayEvents>(event: K, listener: (payload: GatewayEvents[K]) => void): void {
    this.engine.events.off(event, listener);
  }

  routes(): string[] {
    return this.engine.routes.names();
  }

  targets(): TargetSnapshot[] {
    return this.engine.targets();
  }

  async metrics(): Promise<string> {
    const observability = this.parts.observability;
    if (!observability) throw new Error('metrics are off: create the gateway with { observability: true }');
    return observability.metrics.text();
  }

  close(): Promise<void> {
    this.closing ??= this.parts.release();
    return this.closing;
  }

  private target(format: ClientFormat, path: string): CallTarget {
    this.assertOpen();
    return { gateway: this.parts.core, format, path };
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('this Detour gateway is closed');
  }
}

/** The non-streaming form of a request, whatever `stream` the caller's object carried. */
function withoutStream(request: Record<string, unknown>): Record<string, unknown> {
  if (!('stream' in request)) return request;
  const { stream: _stream, ...rest } = request;
  return rest;
}
