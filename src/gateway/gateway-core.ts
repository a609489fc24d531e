import type { Clock } from '../core/clock.js';
import { DetourError, type DetourErrorCode } from '../core/errors.js';
import type { RejectionDetails } from '../core/events.js';
import type { Engine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { ingressCodecs } from '../providers/registry.js';
import { isRecord, tryParseJson } from '../providers/shared/json.js';
import type { IngressCodec, WireFormat } from '../providers/types.js';
import { chatEndpoint, keyRequired } from './chat-endpoint.js';
import { countTokensEndpoint } from './count-tokens-endpoint.js';
import { embeddingsEndpoint } from './embeddings-endpoint.js';
import { geminiCallEndpoint, geminiModelEndpoint, geminiModelsEndpoint } from './gemini-endpoints.js';
import { errorCodecFor, gatewayError } from './error-format.js';
import { announceRejection, doorOf, shown } from './rejections.js';
import { requestIdOf } from './request-id.js';
import { headerOf, jsonResponse, type GatewayRequest, type GatewayResponse } from './http.js';
import { modelsListBody } from './models-list.js';
import { createResponseEndpoint, deleteResponseEndpoint, getResponseEndpoint, inputItemsEndpoint } from './responses/responses-endpoint.js';
import type { FrontDoor } from './front-door.js';
import { httpPolicy } from './http-policy.js';
import { Routes, type RouteMatch } from './routes.js';
import type { TraceRecording } from './trace-context.js';

export interface GatewayCoreOptions {
  engine: Engine;
  /** The one clock: every request's `receivedAt`, the models list's `created`. */
  clock: Clock;
  /** `server.max_body_bytes`: a larger request body is refused with 413. */
  maxBodyBytes: number;
  /** `server.max_json_depth`: deeper request bodies are refused with a 400 naming the path. */
  maxJsonDepth?: number | undefined;
  logger?: Logger | undefined;
  /** Client keys and the HTTP rules (Host, CORS, JSON only); absent, every request is served as it comes. */
  frontDoor?: FrontDoor | undefined;
  /** Every configured secret, removed from every error answer in every encoding. */
  secrets?: readonly string[] | undefined;
  /** Spans are recorded (`telemetry.otlp_endpoint`): each request starts or continues a trace. */
  tracing?: TraceRecording | undefined;
}

/**
 * Detour without a transport, in the shape of Hono: one route table for every endpoint, and
 * `handle(request) → response`. `server/` (node:http) and `library/` (`fetch`, in-process
 * calls) only convert their I/O to and from it, so the faces cannot drift: the same 404, 405
 * and 500, the same headers, the same bodies. A new endpoint is one line in `routes`.
 */
export class GatewayCore {
  readonly routes = new Routes();
  private current: Engine;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly frontDoor: FrontDoor | undefined;
  /** Set once a shutdown begins: `/healthz` answers 503 `draining` from then on. */
  private isDraining = false;

  constructor(options: GatewayCoreOptions) {
    this.current = options.engine;
    this.clock = options.clock;
    this.logger = options.logger ?? silentLogger;
    this.frontDoor = options.frontDoor;
    // Read at each request: a reload swaps the engine, and a request keeps the one it started on.
    const current = (): Engine => this.current;
    const chat = {
      get engine(): Engine {
        return current();
      },
      clock: options.clock,
      maxBodyBytes: options.maxBodyBytes,
      maxJsonDepth: options.maxJsonDepth,
      logger: this.logger,
      guard: options.frontDoor?.guard,
      secrets: options.secrets,
      tracing: options.tracing,
    };
    const openai = chatEndpoint(ingressCodecs.openai as IngressCodec, chat);
    const anthropic = chatEndpoint(ingressCodecs.anthropic as IngressCodec, chat);
    const startedAtSeconds = Math.floor(options.clock.now() / 1000);
    const embeddings = embeddingsEndpoint(chat);
    this.routes
      .post('/v1/chat/completions', openai)
      .post('/chat/completions', openai)
      .post('/v1/messages', anthropic)
      .post('/v1/messages/count_tokens', countTokensEndpoint(chat))
      .post('/v1/embeddings', embeddings)
      .post('/embeddings', embeddings)
      .get(
        '/v1/models',
        keyRequired(chat, (request) => (headerOf(request, 'anthropic-version') !== undefined ? ingressCodecs.anthropic : ingressCodecs.openai) as IngressCodec, (request) =>
          jsonResponse(200, modelsListBody(this.current.routes.names(), startedAtSeconds, headerOf(request, 'anthropic-version') !== undefined)),
        ),
      )
      // A load balancer's health check: 503 while draining before a shutdown, so that it sends new requests elsewhere while this instance still serves.
      .get('/healthz', () => (this.isDraining ? jsonResponse(503, '{"status":"draining"}') : jsonResponse(200, '{"status":"ok"}')));
    this.routes
      .post('/v1beta/models/:action', geminiCallEndpoint(chat))
      .get('/v1beta/models', keyRequired(chat, () => ingressCodecs.gemini as IngressCodec, geminiModelsEndpoint(chat)))
      .get('/v1beta/models/:action', keyRequired(chat, () => ingressCodecs.gemini as IngressCodec, geminiModelEndpoint(chat)));
    const createResponse = createResponseEndpoint(chat);
    this.routes
      .post('/v1/responses', createResponse)
      .post('/responses', createResponse)
      .get('/v1/responses/:id', getResponseEndpoint(chat))
      .on('DELETE', '/v1/responses/:id', deleteResponseEndpoint(chat))
      .get('/v1/responses/:id/input_items', inputItemsEndpoint(chat));
  }

  /** The engine serving new requests. */
  get engine(): Engine {
    return this.current;
  }

  /** Serves every new request from `engine` (a reload); requests already running keep theirs. */
  /** A shutdown has begun: health checks fail from now on, requests are still served. */
  startDraining(): void {
    this.isDraining = true;
  }

  swapEngine(engine: Engine): void {
    this.current = engine;
  }

  /** Answers one request. Never rejects: a fault in a handler is a 500 in the client's format. */
  async handle(request: GatewayRequest): Promise<GatewayResponse> {
    const receivedAt = this.clock.now();
    const match = this.routes.match(request.method, request.path);
    const door = this.frontDoor;
    if (door && request.peer) {
      const verdict = httpPolicy(request, door, match.type === 'found');
      if ('refusal' in verdict) {
        // A CORS preflight answered is not a refusal; everything else the policy turns away is.
        if (verdict.refusal.status >= 400) this.refused(request, match, verdict.refusal, receivedAt);
        return verdict.refusal;
      }
      if (verdict.cors) {
        const response = await this.answer(request, match, receivedAt);
        Object.assign(response.headers, verdict.cors);
        return response;
      }
    }
    return this.answer(request, match, receivedAt);
  }

  /**
   * A request Node's HTTP parser refused (malformed, headers too large, too slow): answered by
   * the transport, counted, logged and written to the request log here like any refusal.
   */
  refusedByTransport(refused: { method: string; path: string; userAgent?: string | undefined; status: number; code: 'BAD_REQUEST' | 'HEADERS_TOO_LARGE' | 'REQUEST_TIMEOUT'; message: string }): void {
    const request = { method: refused.method, path: refused.path, headers: refused.userAgent === undefined ? {} : { 'user-agent': refused.userAgent } };
    const match = refused.path === '' ? ({ type: 'not-found' } as const) : this.routes.match(refused.method, refused.path);
    const pattern = match.type === 'not-found' ? undefined : match.pattern;
    this.announce(requestIdOf(undefined), errorCodecFor(request as GatewayRequest).format, doorOf(request, pattern), refused.status, refused.code, refused.message, this.clock.now());
  }

  private async answer(request: GatewayRequest, match: RouteMatch, receivedAt: number): Promise<GatewayResponse> {
    if (match.type !== 'found') {
      const isWrongMethod = match.type === 'wrong-method';
      const response = gatewayError(request, isWrongMethod ? 405 : 404, isWrongMethod ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', `${request.method} ${shown(request.path)} is not served here`);
      this.refused(request, match, response, receivedAt);
      return response;
    }
    try {
      return await match.handler(request, { receivedAt, params: match.params, pattern: match.pattern });
    } catch (error) {
      this.logger.error({ err: error instanceof DetourError ? error.message : error }, 'unhandled error in handler');
      const response = gatewayError(request, 500, 'INTERNAL_ERROR', 'internal error');
      this.refused(request, match, response, receivedAt);
      return response;
    }
  }

  /** A request the core itself answered with an error (no route, wrong method, the HTTP rules, a fault): logged at info, counted, in the request log. */
  private refused(request: GatewayRequest, match: RouteMatch, response: GatewayResponse, receivedAt: number): void {
    const requestId = requestIdOf(headerOf(request, 'x-request-id'));
    response.headers['x-request-id'] ??= requestId;
    const code = (response.errorCode ?? 'NOT_FOUND') as DetourErrorCode;
    const message = refusalMessage(response) ?? `${request.method} ${shown(request.path)} was refused`;
    this.announce(requestId, errorCodecFor(request).format, doorOf(request, match.type === 'not-found' ? undefined : match.pattern), response.status, code, message, receivedAt);
  }

  private announce(requestId: string, format: WireFormat, door: RejectionDetails, status: number, code: DetourErrorCode, message: string, receivedAt: number): void {
    announceRejection(this.current.events, this.clock, { requestId, format, status, code, message, receivedAt, door });
  }
}

/** The message of an error answer the core wrote itself (its body is the client format's error JSON). */
function refusalMessage(response: GatewayResponse): string | undefined {
  if (typeof response.body !== 'string') return undefined;
  const parsed = tryParseJson(response.body);
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  return typeof error?.message === 'string' ? error.message : undefined;
}
