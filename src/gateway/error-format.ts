import { ingressCodecs } from '../providers/registry.js';
import type { IngressCodec } from '../providers/types.js';
import { headerOf, jsonResponse, type GatewayRequest, type GatewayResponse } from './http.js';

const openAi = ingressCodecs.openai as IngressCodec;
const anthropic = (ingressCodecs.anthropic ?? openAi) as IngressCodec;
const gemini = (ingressCodecs.gemini ?? openAi) as IngressCodec;

/**
 * The format a request's own errors (404, 405, 500) are answered in, guessed from what the
 * client sent: an Anthropic client (its path, or its `anthropic-version` header) reads
 * Anthropic's shape, everyone else OpenAI's.
 */
export function errorCodecFor(request: GatewayRequest): IngressCodec {
  if (request.path.startsWith('/v1/messages') || headerOf(request, 'anthropic-version') !== undefined) return anthropic;
  if (request.path.startsWith('/v1beta/')) return gemini;
  return openAi;
}

/** An error the gateway itself answers, in the client's format. */
export function gatewayError(request: GatewayRequest, status: number, code: string, message: string): GatewayResponse {
  const response = jsonResponse(status, errorCodecFor(request).encodeError({ status, code, message }));
  response.errorCode = code;
  return response;
}
