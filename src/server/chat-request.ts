import { DetourError, invalidRequest } from '../core/errors.js';
import type { Engine } from '../engine/engine.js';
import type { EngineResult } from '../engine/result.js';
import type { IngressCodec } from '../providers/types.js';

/** One chat request on its way in, whatever carried it (an HTTP socket, an in-process call). */
export interface ChatCall {
  engine: Engine;
  codec: IngressCodec;
  requestId: string;
  /** Epoch ms when the request arrived; latency and time to first token count from here. */
  receivedAt: number;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/** A request refused before it reached the engine, answered in the client's own format. */
export interface RejectedResult {
  type: 'rejected';
  status: number;
  /** The error body in the codec's format. */
  body: string;
  headers: Record<string, string>;
  code: DetourError['code'];
}

export type ChatAnswer = EngineResult | RejectedResult;

/**
 * The transport-independent request path shared by the HTTP server and the library: read the
 * body, parse it, validate it in the codec's format, hand it to the engine. Every client error
 * becomes a `rejected` answer here and never reaches an upstream. Resolves to `undefined` when
 * the client went away, since there is no one left to answer.
 */
export async function answerChat(call: ChatCall, readBody: () => Promise<Buffer | string>): Promise<ChatAnswer | undefined> {
  try {
    const raw = await readBody();
    const body = parseJsonBody(raw);
    const { route, stream, wantsUsage } = call.codec.inspectRequest(body);
    return await call.engine.handle({
      id: call.requestId,
      codec: call.codec,
      body: body as Record<string, unknown>,
      route,
      stream,
      wantsUsage,
      signal: call.signal,
      receivedAt: call.receivedAt,
      bodyBytes: typeof raw === 'string' ? raw.length : raw.byteLength,
    });
  } catch (error) {
    if (!(error instanceof DetourError)) throw error;
    if (error.code === 'CLIENT_CLOSED') return undefined;
    const status = error.status ?? 400;
    announceRejected(call, status, error.code);
    return {
      type: 'rejected',
      status,
      body: call.codec.encodeError({ status, code: error.code, message: error.message, param: error.param }),
      headers: { 'x-request-id': call.requestId },
      code: error.code,
    };
  }
}

function parseJsonBody(raw: Buffer | string): unknown {
  try {
    return JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw invalidRequest('The request body is not valid JSON.', undefined, 'INVALID_JSON');
  }
}

/**
 * Tells observability about a request refused before the engine (bad JSON, an unknown route), so
 * the request log and the metrics count every request. The route is not named: a client's
 * invented model names must not become metric labels.
 */
function announceRejected(call: ChatCall, status: number, code: DetourError['code']): void {
  const events = call.engine.events;
  if (!events.hasListeners('request.finished')) return;
  events.emit('request.finished', {
    requestId: call.requestId,
    route: '(rejected)',
    format: call.codec.format,
    stream: false,
    status,
    attempts: [],
    isFailover: false,
    isDegraded: false,
    errorCode: code,
    startedAt: call.receivedAt,
    latencyMs: Date.now() - call.receivedAt,
    usage: () => undefined,
    bodies: () => ({}),
  });
}
