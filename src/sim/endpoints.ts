import type { IncomingMessage } from 'node:http';
import { ingressCodecs } from '../providers/registry.js';
import type { IngressCodec, WireFormat } from '../providers/types.js';

/** One API surface the simulator imitates; it speaks it with the same codec Detour serves clients with. */
export interface SimEndpoint {
  format: WireFormat;
  /** Whether this endpoint serves a chat call at this path; may read the model and streaming from the URL (Gemini). */
  match(method: string, path: string, query: URLSearchParams): { model?: string; stream?: boolean } | undefined;
  /** The key the caller sent, for per-key faults and counts. */
  apiKey(request: IncomingMessage, query: URLSearchParams): string;
  codec: IngressCodec;
  /** Paths that list models in this format. */
  modelsPath: string;
  listModels(models: string[]): unknown;
  /** The upstream-style error code for a status (OpenAI's `rate_limit_exceeded`, Anthropic's `overloaded_error`). */
  errorCode(status: number): string;
}

function header(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

const openAiErrorCodes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_api_key',
  403: 'permission_denied',
  404: 'model_not_found',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  502: 'bad_gateway',
  503: 'overloaded',
  504: 'timeout',
};

export const openAiEndpoint: SimEndpoint = {
  format: 'openai',
  match: (method, path) => (method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions') ? {} : undefined),
  apiKey: (request) => header(request, 'authorization').replace(/^Bearer\s+/i, ''),
  codec: ingressCodecs.openai as IngressCodec,
  modelsPath: '/v1/models',
  listModels: (models) => ({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'detour-sim' })) }),
  errorCode: (status) => openAiErrorCodes[status] ?? 'server_error',
};

/** The formats the simulator speaks; a new one is one entry here. */
export const simEndpoints: SimEndpoint[] = [openAiEndpoint];
