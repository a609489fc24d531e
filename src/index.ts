/**
 * Detour as a library: the gateway's engine in your own process, with the server's config,
 * behaviour and events. `createGateway` is the way in; the types are what its methods take
 * and give. Importing this module starts nothing and opens nothing.
 */
export { createGateway, type CreateGatewayOptions, type GatewayConfig } from './library/create-gateway.js';
export type { Gateway, GatewayEvents } from './library/gateway.js';
export type { CallOptions, CallResult } from './library/in-process-call.js';
export type { ResultStream } from './library/result-stream.js';
export type { FetchFunction } from './library/fetch-handler.js';
export type { ServedInfo } from './library/served.js';
export type { TargetSnapshot } from './engine/target-snapshot.js';
export { GatewayError } from './library/gateway-error.js';
export { ConfigError } from './config/load.js';
export type { DetourConfig } from './config/schema.js';
export type {
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicStreamBlock,
  AnthropicStreamDelta,
  AnthropicStreamEvent,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingsCreateRequest,
  EmbeddingsResponse,
} from './library/wire-types.js';
export type {
  AttemptRecord,
  CircuitClosedEvent,
  CircuitHalfOpenedEvent,
  CircuitOpenedEvent,
  HealthChangedEvent,
  RequestFinishedEvent,
  Usage,
  WireFormat,
} from './core/events.js';
export type { DetourErrorCode } from './core/errors.js';
