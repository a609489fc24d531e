import { DetourError } from '../core/errors.js';
import { readEmbeddingsRequest } from '../providers/embeddings/index.js';
import { ingressCodecs } from '../providers/registry.js';
import { checkModelName } from '../providers/shared/input-checks.js';
import type { ChatRequest, IngressCodec } from '../providers/types.js';
import { admitKey, answerThrown, parsedBody, requireKey, withoutSecrets, type ChatEndpointOptions, type Refusal } from './chat-endpoint.js';
import { encodeResult } from './encode-result.js';
import { headerOf, type Handler } from './http.js';
import { priorityOf } from './priority.js';
import { requestIdOf } from './request-id.js';
import { traceContextOf } from './trace-context.js';

const openai = ingressCodecs.openai as IngressCodec;

/**
 * `POST /v1/embeddings` (OpenAI's shape) on routes of `kind: embeddings`: the same key checks,
 * engine, failover, breakers, timeouts, events and `x-detour-*` headers as a chat request, with
 * the answer checked as vectors and written in the client's `encoding_format`. Errors come in
 * OpenAI's format, and a client's mistake never reaches an upstream.
 */
export function embeddingsEndpoint(options: ChatEndpointOptions): Handler {
  return async (request, context) => {
    const requestId = requestIdOf(headerOf(request, 'x-request-id'));
    const trace = traceContextOf(request, options.tracing);
    const refusal: Refusal = { requestId, receivedAt: context.receivedAt, engine: options.engine, clock: options.clock, trace };
    try {
      const identity = await requireKey(options, request, openai, refusal);
      if (identity && 'response' in identity) return identity.response;
      refusal.clientKeyId = identity?.key.name;
      const priority = priorityOf(request);
      const { body, bodyBytes } = await parsedBody(request.body, options.maxBodyBytes, options.maxJsonDepth);
      const embeddings = readEmbeddingsRequest(body);
      checkModelName(embeddings.route);
      const value = body as Record<string, unknown>;
      const turnedAway = await admitKey(options, identity, openai, refusal, { requestId, route: embeddings.route, body: value });
      if (turnedAway) return turnedAway;
      const result = await options.engine.handle({
        id: requestId,
        format: 'openai',
        body: value,
        toCanonical: notChat,
        route: embeddings.route,
        stream: false,
        wantsUsage: true,
        signal: request.signal,
        receivedAt: context.receivedAt,
        bodyBytes,
        clientKeyId: identity?.key.name,
        upstreamKeys: identity?.key.upstreamKeys,
        trace,
        priority,
        embeddings,
      });
      return withoutSecrets(encodeResult(result, openai, false), options.secrets);
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      // A client gone mid-upload is counted and logged like on the chat endpoints.
      return answerThrown(openai, error, refusal, options.secrets);
    }
  };
}

/** An embeddings call has no chat form: nothing on its path translates it (no mirror, no chat target). */
function notChat(): ChatRequest {
  throw new DetourError({ kind: 'fatal', code: 'INTERNAL_ERROR', status: 500, message: 'an embeddings call has no chat form' });
}
