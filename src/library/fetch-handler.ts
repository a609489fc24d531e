import type { Engine } from '../engine/engine.js';
import type { EngineResult } from '../engine/result.js';
import { modelsListBody } from '../server/models-list.js';
import { ingressCodecs } from '../providers/registry.js';
import type { IngressCodec, WireFormat } from '../providers/types.js';
import { answerChat, type ChatAnswer } from '../server/chat-request.js';
import { requestIdOf } from '../server/request-id.js';
import { servedHeaders } from '../server/respond.js';
import { CallAbort } from './call-abort.js';
import { toFetchRequest, type FetchRequest } from './fetch-request.js';
import { toResponseBody } from './stream-body.js';

/** A `fetch`-compatible function, the shape the official SDKs take as their `fetch` option. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The chat endpoints of the HTTP server, by path: the same ingress codecs answer them here. */
const chatPaths: Readonly<Record<string, WireFormat>> = {
  '/v1/chat/completions': 'openai',
  '/chat/completions': 'openai',
  '/v1/messages': 'anthropic',
};

export interface FetchHandlerOptions {
  engine: Engine;
  maxBodyBytes: number;
  /** Called before each request: throws once the gateway is closed. */
  assertOpen(): void;
}

/**
 * The HTTP server's API as an in-process `fetch`: an official SDK pointed at any base URL with
 * this as its `fetch` runs on the engine with no socket. Requests take the shared request path
 * (`answerChat`) and get the server's answers: same statuses, bodies, streams and headers.
 */
export function createFetchHandler(options: FetchHandlerOptions): FetchFunction {
  const startedAt = Math.floor(Date.now() / 1000);
  return async (input, init) => {
    options.assertOpen();
    const request = toFetchRequest(input, init);
    const format = chatPaths[request.path];
    const codec = format === undefined ? undefined : ingressCodecs[format];
    if (codec && request.method === 'POST') return chat(codec, request, options);
    if (request.method === 'GET' && request.path === '/v1/models') return json(200, modelsListBody(options.engine.routes.names(), startedAt, request.headers.has('anthropic-version')));
    if (request.method === 'GET' && request.path === '/healthz') return json(200, '{"status":"ok"}');
    const isKnownPath = codec !== undefined || request.path === '/v1/models' || request.path === '/healthz';
    const status = isKnownPath ? 405 : 404;
    const openai = ingressCodecs.openai as IngressCodec;
    return json(status, openai.encodeError({ status, code: isKnownPath ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', message: `${request.method} ${request.path} is not served here` }));
  };
}

async function chat(codec: IngressCodec, request: FetchRequest, options: FetchHandlerOptions): Promise<Response> {
  const abort = new CallAbort(request.signal);
  const call = { engine: options.engine, codec, requestId: requestIdOf(request.headers.get('x-request-id') ?? undefined), receivedAt: Date.now(), signal: abort.signal };
  let answer: ChatAnswer | undefined;
  try {
    answer = await answerChat(call, () => request.text(options.maxBodyBytes));
  } catch {
    abort.release();
    // The caller gave up while its body was read; anything else is a fault in Detour itself,
    // answered as the server's dispatcher answers it.
    if (abort.isAbortedByCaller) throw abort.callerReason();
    return json(500, (ingressCodecs.openai as IngressCodec).encodeError({ status: 500, code: 'INTERNAL_ERROR', message: 'internal error' }));
  }
  if (answer === undefined) {
    abort.release();
    throw abort.callerReason();
  }
  if (answer.type === 'rejected') {
    abort.release();
    return json(answer.status, answer.body, answer.headers);
  }
  return toResponse(answer, abort, request.signal);
}

function toResponse(result: EngineResult, abort: CallAbort, callerSignal: AbortSignal | undefined): Response {
  const headers = servedHeaders(result.meta);
  if (result.type === 'body') {
    abort.release();
    return json(result.status, result.body, { ...headers, ...result.headers });
  }
  return new Response(toResponseBody(result, abort, callerSignal), {
    status: result.status,
    headers: { 'content-type': result.contentType, 'cache-control': 'no-cache', ...headers },
  });
}

function json(status: number, body: string | Buffer, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } });
}
