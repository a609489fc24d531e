import type { KeyGuard, Refusal as KeyRefusal } from '../auth/key-guard.js';
import type { CredentialSource } from '../auth/presented-key.js';
import type { VirtualKey } from '../auth/virtual-key.js';
import type { Clock } from '../core/clock.js';
import { redactBody } from '../providers/shared/redact.js';
import { DetourError, invalidRequest } from '../core/errors.js';
import type { TraceContext } from '../core/trace-context.js';
import type { RejectionDetails } from '../core/events.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../observability/logger.js';
import { checkModelName, checkValueDepth, decodeUtf8, defaultMaxJsonDepth, scanJsonText, withoutBom, type JsonTextFacts } from '../providers/shared/input-checks.js';
import { rawJsonOf, type RawJson } from '../providers/shared/raw-json.js';
import type { ChatRequest, ForwardedParts, IngressCodec } from '../providers/types.js';
import { encodeResult } from './encode-result.js';
import { headerOf, jsonResponse, type GatewayRequest, type GatewayResponse, type Handler, type RequestBody } from './http.js';
import { priorityOf } from './priority.js';
import { requestIdOf } from './request-id.js';
import { traceContextOf, type TraceRecording } from './trace-context.js';
import { announceRejection, doorOf } from './rejections.js';

export interface ChatEndpointOptions {
  engine: Engine;
  clock: Clock;
  maxBodyBytes: number;
  logger?: Logger | undefined;
  /** The key checks, when `auth.mode: keys`: every request from a transport must carry a key. */
  guard?: KeyGuard | undefined;
  /** Every configured secret, removed from every error answer in every encoding. */
  secrets?: readonly string[] | undefined;
  /** `server.max_json_depth`: deeper nesting is refused with a 400 naming the path. */
  maxJsonDepth?: number | undefined;
  /** Spans are recorded (`telemetry.otlp_endpoint`); absent, a client's `traceparent` only passes through to the upstream. */
  tracing?: TraceRecording | undefined;
}

/**
 * One chat endpoint in one ingress format (`POST /v1/chat/completions`, `POST /v1/messages`):
 * read the body, parse it, validate it in the codec's format, hand it to the engine, encode the
 * answer for the client. Every client error is answered in the client's format here and never
 * reaches an upstream. The same handler serves the HTTP server, `gateway.fetch` and the
 * library's typed methods.
 */
export function chatEndpoint(codec: IngressCodec, options: ChatEndpointOptions): Handler {
  return async (request, context) => {
    const requestId = requestIdOf(headerOf(request, 'x-request-id'));
    const trace = traceContextOf(request, options.tracing);
    const refusal: Refusal = { requestId, receivedAt: context.receivedAt, engine: options.engine, clock: options.clock, trace, door: doorOf(request, context.pattern) };
    try {
      // A wire request (server, `gateway.fetch`) shows its key before its body is read; an in-process call is the application's own.
      // Without keys there is nothing to wait for: no promise is made for it.
      const identity = options.guard ? await requireKey(options, request, codec, refusal) : undefined;
      if (identity && 'response' in identity) return identity.response;
      refusal.clientKeyId = identity?.key.name;
      const priority = priorityOf(request);
      const { body, bodyBytes, raw } = await parsedBody(request.body, options.maxBodyBytes, options.maxJsonDepth ?? defaultMaxJsonDepth);
      const { route, stream, wantsUsage } = codec.inspectRequest(body);
      checkModelName(route);
      const value = body as Record<string, unknown>;
      const turnedAway = identity ? await admitKey(options, identity, codec, refusal, { requestId, route, body: value }) : undefined;
      if (turnedAway) return turnedAway;
      let canonical: ChatRequest | undefined;
      const result = await options.engine.handle({
        id: requestId,
        format: codec.format,
        body: value,
        toCanonical: () => (canonical ??= translate(codec, value, requestId, options.logger)),
        route,
        stream,
        wantsUsage,
        signal: request.signal,
        receivedAt: context.receivedAt,
        bodyBytes,
        raw,
        forward: forwardedParts(codec, request),
        clientKeyId: identity?.key.name,
        upstreamKeys: identity?.key.upstreamKeys,
        trace,
        priority,
      });
      return withoutSecrets(encodeResult(result, codec, wantsUsage), options.secrets);
    } catch (error) {
      if (!(error instanceof DetourError)) throw error;
      return answerThrown(codec, error, refusal, options.secrets);
    }
  };
}

/** The body as canonical, saying at debug level what the translation left behind. */
function translate(codec: IngressCodec, body: Record<string, unknown>, requestId: string, logger: Logger | undefined): ChatRequest {
  const canonical = codec.toCanonical(body);
  if (logger?.isLevelEnabled('debug') && codec.droppedFeatures) {
    const dropped = codec.droppedFeatures(body);
    if (dropped.length > 0) logger.debug({ requestId, format: codec.format, dropped }, 'features without an equivalent upstream left behind in translation');
  }
  return canonical;
}

/** The client's headers and query a same-format upstream receives as they came. */
function forwardedParts(codec: IngressCodec, request: GatewayRequest): ForwardedParts | undefined {
  const names = codec.forwardedHeaders;
  if (!names) return undefined;
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = headerOf(request, name);
    if (value !== undefined) headers[name] = value;
  }
  return { headers, query: request.search };
}

/**
 * A wire request's key checked (401) before anything else is read; undefined for an in-process
 * call or without `auth.mode: keys`, the refusal to answer with otherwise.
 */
export async function requireKey(options: ChatEndpointOptions, request: GatewayRequest, codec: IngressCodec, refusal: Refusal): Promise<{ key: VirtualKey } | { response: GatewayResponse } | undefined> {
  if (!options.guard) return undefined;
  // An in-process value is the application's own; a wire body an endpoint reshaped was checked there.
  if (request.body.type === 'parsed') return request.body.wire?.identity;
  const identity = await options.guard.authenticate(credentialsOf(request));
  if ('refusal' in identity) return { response: refuseKey(codec, identity.refusal, refusal) };
  return identity;
}

/**
 * A known key's limits and budget for this request (rpm, tpm, parallel, reserved spend); the
 * refusal to answer with when they turn it away, undefined when it may go on.
 */
export async function admitKey(
  options: ChatEndpointOptions,
  identity: { key: VirtualKey } | undefined,
  codec: IngressCodec,
  refusal: Refusal,
  request: { requestId: string; route: string; body: Record<string, unknown> },
): Promise<GatewayResponse | undefined> {
  if (!options.guard || !identity) return undefined;
  const admission = await options.guard.admit(identity.key, request);
  return admission.isAdmitted ? undefined : refuseKey(codec, admission.refusal, refusal);
}

/**
 * A handler that spends nothing but is for key holders all the same (the models lists): with
 * `auth.mode: keys` a request without a valid key is a 401 in its client's format.
 */
export function keyRequired(options: ChatEndpointOptions, codecOf: (request: GatewayRequest) => IngressCodec, handler: Handler): Handler {
  if (!options.guard) return handler;
  return async (request, context) => {
    const refusal: Refusal = { requestId: requestIdOf(headerOf(request, 'x-request-id')), receivedAt: context.receivedAt, engine: options.engine, clock: options.clock, door: doorOf(request, context.pattern) };
    const identity = await requireKey(options, request, codecOf(request), refusal);
    if (identity && 'response' in identity) return identity.response;
    return handler(request, context);
  };
}

/**
 * For an endpoint that calls no chat (a token count): only the key's scope applies, as a 403
 * in the client's format; its limits and budget are for the calls that spend.
 */
export function refuseOutsideScope(identity: { key: VirtualKey } | undefined, route: string, codec: IngressCodec, refusal: Refusal): GatewayResponse | undefined {
  const routes = identity?.key.routes;
  if (!identity || !routes || routes.includes(route)) return undefined;
  return refuseKey(codec, { status: 403, code: 'FORBIDDEN', reason: 'scope', message: `The Detour key "${identity.key.name}" may not call "${route}" (allowed: ${routes.join(', ')}).`, key: identity.key, headers: {} }, { ...refusal, clientKeyId: identity.key.name });
}

/** Where a client's key travels: its headers, or Gemini's `?key=`. */
export function credentialsOf(request: GatewayRequest): CredentialSource {
  return {
    header: (name) => headerOf(request, name),
    query: (name) => (request.search === '' ? undefined : (new URLSearchParams(request.search).get(name) ?? undefined)),
  };
}

/** A request the key checks turned away, in the client's format, counted like any refused request. */
export function refuseKey(codec: IngressCodec, refused: KeyRefusal, refusal: Refusal): GatewayResponse {
  announceRejected(codec, refused.status, refused.code, refused.message, { ...refusal, clientKeyId: refused.key?.name });
  const response = jsonResponse(refused.status, codec.encodeError({ status: refused.status, code: refused.code, message: refused.message }), { 'x-request-id': refusal.requestId, ...refused.headers });
  response.errorCode = refused.code;
  return response;
}

/**
 * The body as a value, and its size on the wire when it came over one (unknown for an in-process
 * value). Refused before anything else reads it when it is not UTF-8, not JSON, or nested deeper
 * than `maxDepth` (recursive readers further on would overflow their stack).
 */
export async function parsedBody(body: RequestBody, limit: number, maxDepth = defaultMaxJsonDepth): Promise<{ body: unknown; bodyBytes: number | undefined; raw?: (() => RawJson | undefined) | undefined }> {
  if (body.type === 'parsed') {
    checkValueDepth(body.value, maxDepth);
    return { body: withoutUndefined(body.value), bodyBytes: body.wire?.bodyBytes };
  }
  const bytes = await body.read(limit);
  const text = typeof bytes === 'string' ? bytes : decodeUtf8(bytes);
  const facts = scanJsonText(text, maxDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest('The request body is not valid JSON.', undefined, 'INVALID_JSON');
  }
  // Whether the text can stand for the value is asked only by a same-format upstream, once: the other endpoints and translated requests never walk the value for it.
  // The text is let go once asked for: a same-format upstream is sent the client's bytes, and a 100 KB
  // string held for the whole upstream call would be copied by every young collection meanwhile.
  let pending: { text: string; facts: JsonTextFacts } | undefined = { text, facts };
  let raw: RawJson | undefined;
  const rawOf = (): RawJson | undefined => {
    if (pending) {
      raw = rawJsonOf(pending.text, pending.facts, value, typeof bytes === 'string' ? undefined : withoutBom(bytes));
      pending = undefined;
    }
    return raw;
  };
  return { body: value, bodyBytes: typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength, raw: rawOf };
}

/**
 * An in-process body's top level without `undefined` fields, as JSON would have dropped them
 * (`{ temperature: undefined }` from a caller's spread is no temperature). A shallow copy: the
 * caller's object is read, not copied deep, and must not change until the call has resolved.
 */
function withoutUndefined(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) copy[key] = field;
  return copy;
}

export interface Refusal {
  requestId: string;
  receivedAt: number;
  engine: Engine;
  clock: Clock;
  /** The key the request carried, once known: refusals count under it. */
  clientKeyId?: string | undefined;
  /** The request's trace context: a refused request is a span too. */
  trace?: TraceContext | undefined;
  /** Where the request came (method, endpoint, user agent), for the refusal's log line and metric. */
  door?: RejectionDetails | undefined;
}

/** A request refused before the engine, in the client's format. */
export function refuse(codec: IngressCodec, error: DetourError, refusal: Refusal): GatewayResponse {
  const status = error.status ?? 400;
  announceRejected(codec, status, error.code, error.message, refusal);
  // The rest of an oversized body is not read: the connection cannot be reused after it.
  const headers: Record<string, string> = error.code === 'BODY_TOO_LARGE' ? { 'x-request-id': refusal.requestId, connection: 'close' } : { 'x-request-id': refusal.requestId };
  const response = jsonResponse(status, codec.encodeError({ status, code: error.code, message: error.message, param: error.param }), headers);
  response.errorCode = error.code;
  return response;
}

function announceRejected(codec: IngressCodec, status: number, code: DetourError['code'], message: string, refusal: Refusal): void {
  announceRejection(refusal.engine.events, refusal.clock, { requestId: refusal.requestId, format: codec.format, status, code, message, receivedAt: refusal.receivedAt, door: refusal.door, clientKeyId: refusal.clientKeyId, trace: refusal.trace });
}

/** An answer with every configured secret gone from its error body, in every encoding: an upstream may echo them back. */
export function withoutSecrets(response: GatewayResponse, secrets: readonly string[] | undefined): GatewayResponse {
  if (response.status >= 400 && (typeof response.body === 'string' || response.body instanceof Uint8Array)) {
    response.body = redactBody(typeof response.body === 'string' ? response.body : Buffer.from(response.body).toString('utf8'), secrets);
  }
  return response;
}

/** The answer to a `DetourError` thrown while serving: the client gone, or a refusal in its format without secrets. */
export function answerThrown(codec: IngressCodec, error: DetourError, refusal: Refusal, secrets: readonly string[] | undefined): GatewayResponse {
  if (error.code === 'CLIENT_CLOSED') return clientGone(codec, error, refusal);
  const response = refuse(codec, error, refusal);
  response.body = redactBody(String(response.body), secrets);
  return response;
}

/** The client left before an answer existed (mid-upload, say): nobody to answer, but counted and logged like any request. */
export function clientGone(codec: IngressCodec, error: DetourError, refusal: Refusal): GatewayResponse {
  announceRejected(codec, 499, 'CLIENT_CLOSED', error.message, refusal);
  return { status: 499, headers: {}, body: undefined, isClientGone: true };
}

/** A request body an in-process caller already holds. */
export function parsedRequestBody(value: unknown): RequestBody {
  return { type: 'parsed', value };
}
