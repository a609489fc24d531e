import { DetourError, invalidRequest } from '../core/errors.js';
import type { Target } from '../core/settings.js';
import { badResponse, decodedBody, readBoundedBody } from '../engine/upstream-body.js';
import type { UpstreamHttp } from '../engine/upstream-http.js';
import { messagesRequest } from '../providers/anthropic/http.js';
import { adapterKeyOf, adapters, ingressCodecs } from '../providers/registry.js';
import { isRecord } from '../providers/shared/json.js';
import type { IngressCodec } from '../providers/types.js';
import { clientGone, parsedBody, refuse, refuseOutsideScope, requireKey, type ChatEndpointOptions, type Refusal } from './chat-endpoint.js';
import { doorOf } from './rejections.js';
import { headerOf, jsonResponse, type Handler } from './http.js';
import { requestIdOf } from './request-id.js';
import { abortSignalOf, type AbortSource } from '../core/abort-source.js';

const anthropic = ingressCodecs.anthropic as IngressCodec;

/**
 * `POST /v1/messages/count_tokens` (Claude Code calls it): sent to the route's Anthropic targets
 * in order, skipping open circuits and failing over as a chat request does. A route with no
 * Anthropic target that answered gets an estimate, marked `x-detour-estimated: true`, rather
 * than an error: the client only sizes its context with it.
 */
export function countTokensEndpoint(options: ChatEndpointOptions): Handler {
  return async (request, context) => {
    const requestId = requestIdOf(headerOf(request, 'x-request-id'));
    const refusal: Refusal = { requestId, receivedAt: context.receivedAt, engine: options.engine, clock: options.clock, door: doorOf(request, context.pattern) };
    try {
      const identity = await requireKey(options, request, anthropic, refusal);
      if (identity && 'response' in identity) return identity.response;
      const { body: parsed } = await parsedBody(request.body, options.maxBodyBytes, options.maxJsonDepth);
      if (!isRecord(parsed) || typeof parsed.model !== 'string' || parsed.model === '') throw invalidRequest('model: Field required (a non-empty string).', 'model');
      if (!Array.isArray(parsed.messages)) throw invalidRequest('messages: Field required.', 'messages');
      const route = options.engine.routes.resolve(parsed.model);
      if (!route) throw new DetourError({ kind: 'fatal', code: 'ROUTE_NOT_FOUND', status: 404, param: 'model', message: `The model "${parsed.model}" is not a route of this gateway.` });
      const outside = refuseOutsideScope(identity, parsed.model, anthropic, refusal);
      if (outside) return outside;
      const forward = { headers: betaHeaders(request), query: request.search };
      const store = options.engine.resilience.store;
      const now = options.clock.now();
      // Not a chat request (no request-log row): its info line says who counted, after which failures.
      const failed: string[] = [];
      const counted = (fields: Record<string, unknown>): void => options.logger?.info({ requestId, route: parsed.model, status: 200, ...fields, failed, latencyMs: options.clock.now() - context.receivedAt }, 'tokens counted');
      for (const group of route.groups) {
        for (const target of group.targets) {
          if (adapters[adapterKeyOf(target.provider)]?.format !== 'anthropic') continue;
          const breaker = store.breakerView(target.id);
          if (breaker.status === 'open' && breaker.until > now) continue;
          const answer = await ask(options.engine.upstreamHttp, target, parsed, forward, route.settings.attemptTimeoutMs, request.signal, now);
          if (answer.type === 'answer') {
            counted({ target: target.id, estimated: false });
            return jsonResponse(200, answer.body, { 'x-request-id': requestId, 'x-detour-provider': target.provider.name, 'x-detour-target': target.id, ...(target.region !== undefined ? { 'x-detour-region': target.region } : {}) });
          }
          if (answer.error.kind === 'fatal') return refuse(anthropic, answer.error, refusal);
          failed.push(`${target.id}: ${answer.error.code}`);
        }
      }
      counted({ estimated: true });
      return jsonResponse(200, JSON.stringify({ input_tokens: estimateTokens(parsed) }), { 'x-request-id': requestId, 'x-detour-estimated': 'true' });
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      if (error.code === 'CLIENT_CLOSED') return clientGone(anthropic, error, refusal);
      return refuse(anthropic, error, refusal);
    }
  };
}

function betaHeaders(request: Parameters<Handler>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['anthropic-beta', 'anthropic-version']) {
    const value = headerOf(request, name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

type Answer = { type: 'answer'; body: string } | { type: 'failed'; error: DetourError };

/**
 * One count from one target, through the engine's connection pools (so `max_connections` holds)
 * and read as every upstream answer is: decoded or refused, bounded by
 * `server.max_upstream_body_bytes`, checked for the shape of a count.
 */
async function ask(http: UpstreamHttp, target: Target, body: Record<string, unknown>, forward: { headers: Record<string, string>; query: string }, timeoutMs: number, clientSignal: AbortSource, now: number): Promise<Answer> {
  const upstream = messagesRequest(body, target, forward, 'messages/count_tokens');
  const adapter = adapters[adapterKeyOf(target.provider)];
  try {
    const response = await http.send(upstream, AbortSignal.any([abortSignalOf(clientSignal), AbortSignal.timeout(timeoutMs)]));
    const text = (await readBoundedBody(decodedBody(response, target.id), http.limits.maxBodyBytes, target.id)).toString('utf8');
    if (response.statusCode >= 200 && response.statusCode < 300) {
      // Checked before it is believed: a count is `{ "input_tokens": n }`.
      const parsed = parsedJson(text);
      if (isRecord(parsed) && typeof parsed.input_tokens === 'number') return { type: 'answer', body: text };
      return { type: 'failed', error: badResponse(target.id, 'answered count_tokens with something that is not a count') };
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const error = adapter?.classifyError(response.statusCode, headers, text, target, now);
    return { type: 'failed', error: error ?? new DetourError({ kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR', target: target.id, message: `${target.id} answered ${response.statusCode}` }) };
  } catch (error) {
    if (clientSignal.aborted) throw new DetourError({ kind: 'fatal', code: 'CLIENT_CLOSED', status: 499, message: 'the client closed the connection' });
    if (error instanceof DetourError) return { type: 'failed', error };
    return { type: 'failed', error: new DetourError({ kind: 'retryable', code: 'UPSTREAM_CONNECT_FAILED', target: target.id, message: `${target.id}: ${error instanceof Error ? error.message : String(error)}` }) };
  }
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** About four characters a token, over everything the model would read: system, messages, tools. */
function estimateTokens(body: Record<string, unknown>): number {
  const text = JSON.stringify([body.system ?? '', body.messages, body.tools ?? []]);
  return Math.max(1, Math.ceil(text.length / 4));
}
