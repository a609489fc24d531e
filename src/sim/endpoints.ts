import type { IncomingMessage } from 'node:http';
import { geminiStatusName } from '../providers/gemini/index.js';
import { ingressCodecs } from '../providers/registry.js';
import { responseContextFor, responsesCodec } from '../providers/responses/index.js';
import type { IngressCodec, WireFormat } from '../providers/types.js';

/** One API surface the simulator imitates; it speaks it with the same codec Detour serves clients with. */
export interface SimEndpoint {
  format: WireFormat;
  /** Whether this endpoint serves a chat call at this path; may read the model and streaming from the URL (Gemini). */
  match(method: string, path: string, query: URLSearchParams): { model?: string; stream?: boolean } | undefined;
  /** The key the caller sent, for per-key faults and counts. */
  apiKey(request: IncomingMessage, query: URLSearchParams): string;
  codec: IngressCodec;
  /** A codec for this one request, when answers depend on it (a Responses API answer repeats its request). */
  codecFor?(body: Record<string, unknown>): IngressCodec;
  /** Paths that list models in this format. */
  modelsPath: string;
  /**
   * Whether a request on a path several formats share is this format's; absent means yes.
   * OpenAI and Anthropic both list models at `GET /v1/models`: Anthropic clients always send
   * `anthropic-version`, OpenAI clients never do, so that header decides.
   */
  claims?(request: IncomingMessage): boolean;
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

/** The OpenAI Responses API (`POST /v1/responses`), for providers set to `api: responses`. */
export const responsesEndpoint: SimEndpoint = {
  ...openAiEndpoint,
  format: 'responses',
  match: (method, path) => (method === 'POST' && (path === '/v1/responses' || path === '/responses') ? {} : undefined),
  codec: ingressCodecs.responses as IngressCodec,
  codecFor: (body) => responsesCodec(responseContextFor(body)),
};

/** Azure's Responses API: one URL per resource (`/openai/responses?api-version=`), the deployment in the body. */
export const azureResponsesEndpoint: SimEndpoint = {
  ...responsesEndpoint,
  match: (method, path, query) => (method === 'POST' && path === '/openai/responses' && query.has('api-version') ? {} : undefined),
  apiKey: (request) => header(request, 'api-key'),
  modelsPath: '/openai/models',
};

const azureDeploymentPath = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

/**
 * Azure OpenAI: the OpenAI format at a deployment's URL (`?api-version=` required), keyed by an
 * `api-key` header. The deployment name stands in for the model.
 */
export const azureOpenAiEndpoint: SimEndpoint = {
  ...openAiEndpoint,
  match: (method, path, query) => {
    const deployment = method === 'POST' && query.has('api-version') ? azureDeploymentPath.exec(path)?.[1] : undefined;
    return deployment === undefined ? undefined : { model: decodeURIComponent(deployment) };
  },
  apiKey: (request) => header(request, 'api-key'),
  modelsPath: '/openai/models',
};

const anthropicErrorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export const anthropicEndpoint: SimEndpoint = {
  format: 'anthropic',
  match: (method, path) => (method === 'POST' && path === '/v1/messages' ? {} : undefined),
  apiKey: (request) => header(request, 'x-api-key') || header(request, 'authorization').replace(/^Bearer\s+/i, ''),
  codec: ingressCodecs.anthropic as IngressCodec,
  modelsPath: '/v1/models',
  claims: (request) => request.headers['anthropic-version'] !== undefined,
  listModels: (models) => ({
    data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' })),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models[models.length - 1] ?? null,
  }),
  errorCode: (status) => anthropicErrorTypes[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
};

/** `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`; the model and streaming are in the path. */
const geminiCallPath = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export const geminiEndpoint: SimEndpoint = {
  format: 'gemini',
  // js-genai always adds `alt=sse`; without it Google streams a JSON array, which the simulator does not imitate: it streams SSE either way.
  match: (method, path) => {
    const found = method === 'POST' ? geminiCallPath.exec(path) : null;
    return found?.[1] ? { model: decodeURIComponent(found[1]), stream: found[2] === 'streamGenerateContent' } : undefined;
  },
  apiKey: (request, query) => header(request, 'x-goog-api-key') || (query.get('key') ?? ''),
  codec: ingressCodecs.gemini as IngressCodec,
  modelsPath: '/v1beta/models',
  listModels: (models) => ({
    models: models.map((id) => ({
      name: `models/${id}`,
      version: '001',
      displayName: id,
      description: 'A model of the Detour simulator.',
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
      supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
      temperature: 1,
      topP: 0.95,
      topK: 64,
      maxTemperature: 2,
    })),
  }),
  // Gemini's errors name a canonical status (google.rpc.Code), not a type of their own.
  errorCode: (status) => geminiStatusName(status),
};

/**
 * The formats the simulator speaks; a new one is one entry here. Matched in order: Anthropic
 * comes before OpenAI so that it can claim the `GET /v1/models` calls that carry its header.
 */
export const simEndpoints: SimEndpoint[] = [anthropicEndpoint, openAiEndpoint, azureOpenAiEndpoint, geminiEndpoint, responsesEndpoint, azureResponsesEndpoint];
