import { DetourError, invalidRequest } from '../../core/errors.js';
import { checkModelName } from '../../providers/shared/input-checks.js';
import { responseContextFor, responsesCodec, responsesIngress } from '../../providers/responses/index.js';
import { inputItems } from '../../providers/responses/input.js';
import { isRecord, tryParseJson } from '../../providers/shared/json.js';
import { replaceJsonString } from '../../providers/shared/raw-json.js';
import type { ChatRequest } from '../../providers/types.js';
import { admitKey, clientGone, parsedBody, refuse, requireKey, type ChatEndpointOptions, type Refusal } from '../chat-endpoint.js';
import { doorOf } from '../rejections.js';
import { encodeResult } from '../encode-result.js';
import { headerOf, isResponseStream, jsonResponse, queryOf, wholeBodyText, type GatewayRequest, type GatewayResponse, type Handler, type ResponseStream } from '../http.js';
import { priorityOf } from '../priority.js';
import { requestIdOf } from '../request-id.js';
import { traceContextOf } from '../trace-context.js';
import { conversationOf, deleteResponse, loadResponse, normalizeInput, saveResponse, upstreamInput } from './conversations.js';

/**
 * `POST /v1/responses`: the OpenAI Responses API on every route. A follow-up by
 * `previous_response_id` is expanded here into the whole conversation, from the state store,
 * so that any target can serve it; what was served is stored (unless `store: false`) under the
 * id the client received.
 */
export function createResponseEndpoint(options: ChatEndpointOptions): Handler {
  return async (request, context) => {
    const requestId = requestIdOf(headerOf(request, 'x-request-id'));
    const trace = traceContextOf(request, options.tracing);
    const refusal: Refusal = { requestId, receivedAt: context.receivedAt, engine: options.engine, clock: options.clock, trace, door: doorOf(request, context.pattern) };
    const store = options.engine.resilience.store;
    try {
      const identity = await requireKey(options, request, responsesIngress, refusal);
      if (identity && 'response' in identity) return identity.response;
      refusal.clientKeyId = identity?.key.name;
      const priority = priorityOf(request);
      const { body: parsed, bodyBytes, raw } = await parsedBody(request.body, options.maxBodyBytes, options.maxJsonDepth);
      responsesIngress.inspectRequest(parsed);
      const body = parsed as Record<string, unknown>;
      const previousId = body.previous_response_id;
      const shouldStore = body.store !== false;
      // Ids are given to input items for the stored conversation (its listing names them); an unstored turn keeps the client's own items.
      let input = shouldStore || typeof previousId === 'string' ? normalizeInput(inputItems(body.input)) : inputItems(body.input);
      if (typeof previousId === 'string') {
        const previous = await loadResponse(store, previousId);
        if (!previous) throw invalidRequest(`Previous response with id '${previousId}' not found.`, 'previous_response_id', 'NOT_FOUND', 400);
        input = [...conversationOf(previous), ...input];
      }
      const responseContext = responseContextFor(body, context.receivedAt);
      const codec = responsesCodec(responseContext);
      const { previous_response_id: _previous, ...rest } = body;
      const expanded: Record<string, unknown> = { ...rest, input: upstreamInput(input) };
      const { route, stream } = codec.inspectRequest(expanded);
      checkModelName(route);
      const turnedAway = await admitKey(options, identity, responsesIngress, refusal, { requestId, route, body: expanded });
      if (turnedAway) return turnedAway;
      let canonical: ChatRequest | undefined;
      const result = await options.engine.handle({
        id: requestId,
        format: codec.format,
        body: expanded,
        // Without a previous response to expand, the client's own text says what `expanded` says (its input items only normalized for storing).
        raw: 'previous_response_id' in body ? undefined : raw,
        toCanonical: () => (canonical ??= codec.toCanonical(expanded)),
        route,
        stream,
        wantsUsage: true,
        signal: request.signal,
        receivedAt: context.receivedAt,
        bodyBytes,
        clientKeyId: identity?.key.name,
        upstreamKeys: identity?.key.upstreamKeys,
        trace,
        priority,
      });
      const response = encodeResult(result, codec, true);
      if (result.status !== 200) return response;
      const keep = async (served: Record<string, unknown>): Promise<void> => {
        // A stored conversation is a convenience: a store that fails costs the follow-up, never this answer.
        if (shouldStore) await saveResponse(store, { input, response: served }).catch(() => undefined);
      };
      const isPassThrough = result.type === 'stream' ? result.isPassThrough : result.content.kind === 'raw';
      return await finish(response, { id: responseContext.id, previousId: typeof previousId === 'string' ? previousId : null, isPassThrough, shouldStore, keep });
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      if (error.code === 'CLIENT_CLOSED') return clientGone(responsesIngress, error, refusal);
      return refuse(responsesIngress, error, refusal);
    }
  };
}

interface Finishing {
  id: string;
  previousId: string | null;
  isPassThrough: boolean;
  shouldStore: boolean;
  keep(response: Record<string, unknown>): Promise<void>;
}

/** A served answer, stored and (when passed through) renamed to Detour's response id. */
async function finish(response: GatewayResponse, finishing: Finishing): Promise<GatewayResponse> {
  const body = response.body;
  if (isResponseStream(body)) return { ...response, body: watchStream(body, finishing) };
  if (body === undefined || (!finishing.shouldStore && !finishing.isPassThrough)) return response;
  const text = wholeBodyText(body);
  if (finishing.isPassThrough && !finishing.shouldStore && finishing.previousId === null) {
    const renamed = renamedAnswer(text, finishing.id);
    if (renamed !== undefined) return { ...response, body: renamed };
  }
  const served = tryParseJson(text);
  if (!isRecord(served)) return response;
  if (finishing.isPassThrough) {
    // The upstream's own id means nothing to another upstream: the client gets Detour's.
    served.id = finishing.id;
    served.previous_response_id = finishing.previousId;
  }
  await finishing.keep(served);
  return finishing.isPassThrough ? { ...response, body: JSON.stringify(served) } : response;
}

/** An answer that opens with its id (as OpenAI's do) and says it follows no earlier response. */
const answerIdPattern = /^\s*\{\s*"id"\s*:\s*"([^"\\]+)"/;
const noPreviousPattern = /"previous_response_id"\s*:\s*null/;

/**
 * An unstored, passed-through answer renamed to Detour's id in its text, as a stream's events
 * are: what the parse path would give, without parsing and serializing it again. Undefined when
 * the text is not of that plain shape; the parse path then decides.
 */
function renamedAnswer(text: string, id: string): string | undefined {
  const upstreamId = answerIdPattern.exec(text)?.[1];
  if (upstreamId === undefined || !noPreviousPattern.test(text)) return undefined;
  return upstreamId === id ? text : replaceJsonString(text, upstreamId, id);
}

const upstreamIdPattern = /"response"\s*:\s*\{\s*"id"\s*:\s*"([^"\\]+)"/;
const finalEventPattern = /"type"\s*:\s*"response\.(?:completed|incomplete)"/;

/**
 * The stream as the client receives it, watched for its final event (the whole response, to
 * store before the client can ask for a follow-up). A passed-through stream names the upstream's
 * response id: it is replaced by Detour's.
 */
function watchStream(stream: ResponseStream, finishing: Finishing): ResponseStream {
  const upstreamId = finishing.isPassThrough ? upstreamIdPattern.exec(stream.head)?.[1] : undefined;
  const rename = (text: string): string => (upstreamId && upstreamId !== finishing.id ? replaceJsonString(text, upstreamId, finishing.id) : text);
  const watch = async (text: string): Promise<string> => {
    const renamed = rename(text);
    // An unstored turn (Codex sends store: false) has nothing to keep: its final event is not parsed.
    if (finishing.shouldStore && finalEventPattern.test(renamed)) {
      const response = finalResponseOf(renamed);
      if (response) await finishing.keep(response);
    }
    return renamed;
  };
  const rest = stream.rest;
  const head = rename(stream.head);
  let pendingHead: Promise<unknown> | undefined = finishing.shouldStore && finalEventPattern.test(head) ? watch(head) : undefined;
  const wrapped: AsyncGenerator<string, void, undefined> = {
    async next() {
      if (pendingHead) {
        await pendingHead;
        pendingHead = undefined;
      }
      const step = await rest.next();
      if (step.done) return step;
      return { done: false, value: await watch(step.value) };
    },
    return: (value) => rest.return(value),
    throw: (error) => rest.throw(error),
    [Symbol.asyncIterator]: () => wrapped,
  };
  return { type: 'stream', head, rest: wrapped };
}

/** The `response` of the final event in a piece of a stream. */
function finalResponseOf(text: string): Record<string, unknown> | undefined {
  for (const block of text.split('\n\n')) {
    if (!finalEventPattern.test(block)) continue;
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    const payload = tryParseJson(data);
    if (isRecord(payload) && isRecord(payload.response)) return payload.response;
  }
  return undefined;
}

/**
 * A handler on one stored response: the key checked, the id and one request id for the whole
 * answer, refusals included.
 */
function storedResponseHandler(options: ChatEndpointOptions, answer: (id: string, request: GatewayRequest, headers: Record<string, string>) => Promise<GatewayResponse>): Handler {
  return async (request, context) => {
    const requestId = requestIdOf(headerOf(request, 'x-request-id'));
    const identity = await requireKey(options, request, responsesIngress, { requestId, receivedAt: context.receivedAt, engine: options.engine, clock: options.clock, door: doorOf(request, context.pattern) });
    if (identity && 'response' in identity) return identity.response;
    return answer(context.params.id ?? '', request, { 'x-request-id': requestId });
  };
}

/** `GET /v1/responses/:id`: a stored response, as it was answered. */
export function getResponseEndpoint(options: ChatEndpointOptions): Handler {
  return storedResponseHandler(options, async (id, _request, headers) => {
    const stored = await loadResponse(options.engine.resilience.store, id);
    if (!stored) return notFound(id);
    return jsonResponse(200, JSON.stringify(stored.response), headers);
  });
}

/** `GET /v1/responses/:id/input_items`: the input that response answered, earlier turns included. */
export function inputItemsEndpoint(options: ChatEndpointOptions): Handler {
  return storedResponseHandler(options, async (id, request, headers) => {
    const stored = await loadResponse(options.engine.resilience.store, id);
    if (!stored) return notFound(id);
    const data = stored.input.filter(isRecord);
    const ordered = queryOf(request).get('order') === 'asc' ? data : [...data].reverse();
    const body = { object: 'list', data: ordered, first_id: ordered[0]?.id ?? null, last_id: ordered.at(-1)?.id ?? null, has_more: false };
    return jsonResponse(200, JSON.stringify(body), headers);
  });
}

/** `DELETE /v1/responses/:id`. */
export function deleteResponseEndpoint(options: ChatEndpointOptions): Handler {
  return storedResponseHandler(options, async (id, _request, headers) => {
    if (!(await deleteResponse(options.engine.resilience.store, id))) return notFound(id);
    return jsonResponse(200, JSON.stringify({ id, object: 'response', deleted: true }), headers);
  });
}

function notFound(id: string): GatewayResponse {
  const response = jsonResponse(404, responsesIngress.encodeError({ status: 404, code: 'NOT_FOUND', message: `Response with id '${id}' not found.` }));
  response.errorCode = 'NOT_FOUND';
  return response;
}
