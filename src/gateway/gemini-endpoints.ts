import { DetourError, invalidRequest } from '../core/errors.js';
import { ingressCodecs } from '../providers/registry.js';
import { isRecord } from '../providers/shared/json.js';
import type { IngressCodec } from '../providers/types.js';
import { chatEndpoint, clientGone, parsedBody, refuse, refuseOutsideScope, requireKey, type ChatEndpointOptions } from './chat-endpoint.js';
import { doorOf } from './rejections.js';
import { headerOf, jsonResponse, type GatewayResponse, type Handler } from './http.js';
import { requestIdOf } from './request-id.js';

const gemini = ingressCodecs.gemini as IngressCodec;

/**
 * Gemini's own API on every route: `POST /v1beta/models/{route}:generateContent`,
 * `:streamGenerateContent` (`?alt=sse`), `:countTokens`, and `GET /v1beta/models`. Gemini names
 * the model and the method in the path; they are moved into the body for the Gemini codec.
 * The key comes as `x-goog-api-key` or `?key=`, checked before the body is read; the chat
 * endpoint then applies its scope, limits and budget as on every other face.
 */
export function geminiCallEndpoint(options: ChatEndpointOptions): Handler {
  const chat = chatEndpoint(gemini, options);
  return async (request, context) => {
    const requestId = requestIdOf(headerOf(request, 'x-request-id'));
    const refusal = { requestId, receivedAt: context.receivedAt, engine: options.engine, clock: options.clock, door: doorOf(request, context.pattern) };
    const action = context.params.action ?? '';
    const colon = action.lastIndexOf(':');
    const route = colon > 0 ? action.slice(0, colon) : '';
    const method = colon > 0 ? action.slice(colon + 1) : '';
    try {
      if (route === '' || !['generateContent', 'streamGenerateContent', 'countTokens'].includes(method)) {
        throw new DetourError({ kind: 'fatal', code: 'NOT_FOUND', status: 404, message: `${request.method} ${request.path} is not served here (expected models/{model}:generateContent, :streamGenerateContent or :countTokens)` });
      }
      const identity = await requireKey(options, request, gemini, refusal);
      if (identity && 'response' in identity) return identity.response;
      const { body, bodyBytes } = await parsedBody(request.body, options.maxBodyBytes, options.maxJsonDepth);
      if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
      if (method === 'countTokens') {
        const outside = refuseOutsideScope(identity, route, gemini, refusal);
        if (outside) return outside;
        const answer = countTokens(body, route, requestId);
        options.logger?.info({ requestId, route, status: 200, estimated: true, latencyMs: options.clock.now() - context.receivedAt }, 'tokens counted');
        return answer;
      }
      const value = { ...body, model: route, stream: method === 'streamGenerateContent' };
      return await chat({ ...request, body: { type: 'parsed', value, wire: { bodyBytes: bodyBytes ?? 0, identity } } }, context);
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      if (error.code === 'CLIENT_CLOSED') return clientGone(gemini, error, refusal);
      return refuse(gemini, error, refusal);
    }
  };
}

/**
 * `:countTokens`, estimated from the canonical form of what the model would read (about four
 * characters a token), and marked `x-detour-estimated: true`. A `generateContentRequest` wrapper
 * (the SDK's other shape) is read as well.
 */
function countTokens(body: Record<string, unknown>, route: string, requestId: string): GatewayResponse {
  const inner = isRecord(body.generateContentRequest) ? body.generateContentRequest : body;
  const canonical = gemini.toCanonical({ ...inner, model: route });
  const text = JSON.stringify([canonical.messages, canonical.tools ?? []]);
  const totalTokens = Math.max(1, Math.ceil(text.length / 4));
  return jsonResponse(200, JSON.stringify({ totalTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }] }), { 'x-request-id': requestId, 'x-detour-estimated': 'true' });
}

/** `GET /v1beta/models`: the routes, as Gemini lists its models. */
export function geminiModelsEndpoint(options: ChatEndpointOptions): Handler {
  return () => jsonResponse(200, JSON.stringify({ models: options.engine.routes.names().map(geminiModel) }));
}

/** `GET /v1beta/models/{route}`. */
export function geminiModelEndpoint(options: ChatEndpointOptions): Handler {
  return (request, context) => {
    const name = context.params.action ?? '';
    if (!options.engine.routes.names().includes(name)) {
      const response = jsonResponse(404, gemini.encodeError({ status: 404, code: 'NOT_FOUND', message: `models/${name} is not found.` }));
      response.errorCode = 'NOT_FOUND';
      return response;
    }
    return jsonResponse(200, JSON.stringify(geminiModel(name)), { 'x-request-id': requestIdOf(headerOf(request, 'x-request-id')) });
  };
}

function geminiModel(name: string): Record<string, unknown> {
  return {
    name: `models/${name}`,
    version: '001',
    displayName: name,
    description: `The Detour route "${name}".`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}
