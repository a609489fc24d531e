import type { Engine } from '../engine/engine.js';
import type { BodyResult } from '../engine/result.js';
import { tryParseJson } from '../providers/shared/json.js';
import type { IngressCodec } from '../providers/types.js';
import { answerChat, type ChatAnswer, type RejectedResult } from '../server/chat-request.js';
import { requestIdOf } from '../server/request-id.js';
import { CallAbort } from './call-abort.js';
import { clientFormats, type ClientFormat } from './client-formats.js';
import { GatewayError } from './gateway-error.js';
import { EngineResultStream, type ResultStream } from './result-stream.js';
import { toServedInfo, type ServedInfo } from './served.js';

/** Options of one in-process call. */
export interface CallOptions {
  /** Aborts the call: an upstream request in flight is cancelled, and the call rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** The id for logs, events and `served.requestId`; a new one when absent or not a sane token (as `x-request-id`). */
  requestId?: string | undefined;
}

/** A whole answer and who served it. */
export interface CallResult<Response> {
  response: Response;
  served: ServedInfo;
}

/** What the library needs to send one request down the shared path. */
export interface CallTarget {
  engine: Engine;
  codec: IngressCodec;
  format: ClientFormat;
}

/** One non-streaming call; rejects with a `GatewayError` for any answer the server would have sent with an error status. */
export async function callForBody<Response>(target: CallTarget, body: Record<string, unknown>, options: CallOptions): Promise<CallResult<Response>> {
  const { answer, abort } = await send(target, body, options);
  abort.release();
  if (answer.type === 'rejected') throw rejectedError(target.format, answer);
  if (answer.type === 'stream') {
    // Never happens for a body without `stream: true`; stopping it keeps an upstream from being read for no one.
    await answer.rest.return(undefined);
    throw new GatewayError({ status: 502, code: 'INTERNAL_ERROR', message: 'a stream answered a non-streaming request', body: undefined, served: toServedInfo(answer.meta) });
  }
  const served = toServedInfo(answer.meta);
  const text = answerText(answer);
  if (answer.status >= 400) throw bodyError(target.format, answer.status, text, answer.headers, served);
  const response = tryParseJson(text);
  if (response === undefined) throw new GatewayError({ status: 502, code: 'UPSTREAM_BAD_RESPONSE', message: `${served.target ?? 'the upstream'} answered with a body that is not JSON`, body: text, served });
  return { response: response as Response, served };
}

/** One streaming call; resolves once the first event has arrived, before which every failure can still fail over. */
export async function callForStream<Event>(target: CallTarget, body: Record<string, unknown>, options: CallOptions): Promise<ResultStream<Event>> {
  const { answer, abort } = await send(target, body, options);
  if (answer.type === 'stream') return new EngineResultStream<Event>(target.format, answer, abort);
  abort.release();
  if (answer.type === 'rejected') throw rejectedError(target.format, answer);
  // A stream that failed before its first event is answered as a whole error body, as over HTTP.
  throw bodyError(target.format, answer.status, answerText(answer), answer.headers, toServedInfo(answer.meta));
}

async function send(target: CallTarget, body: Record<string, unknown>, options: CallOptions) {
  const abort = new CallAbort(options.signal);
  const call = { engine: target.engine, codec: target.codec, requestId: requestIdOf(options.requestId), receivedAt: Date.now(), signal: abort.signal };
  // The body goes through JSON as it would over HTTP: the same validation sees the same value
  // (undefined fields dropped), and the engine works on a copy the caller cannot change mid-retry.
  let answer: ChatAnswer | undefined;
  try {
    answer = await answerChat(call, () => Promise.resolve(JSON.stringify(body)));
  } catch (error) {
    // Not an answer (a body JSON cannot hold, a fault in Detour): the caller gets the error itself.
    abort.release();
    throw error;
  }
  if (answer === undefined) {
    abort.release();
    throw abort.callerReason();
  }
  return { answer, abort };
}

function answerText(answer: BodyResult): string {
  return typeof answer.body === 'string' ? answer.body : answer.body.toString('utf8');
}

function rejectedError(format: ClientFormat, answer: RejectedResult): GatewayError {
  const body = tryParseJson(answer.body);
  return new GatewayError({ status: answer.status, code: answer.code, message: clientFormats[format].readError(body).message, body, headers: answer.headers });
}

function bodyError(format: ClientFormat, status: number, text: string, headers: Record<string, string>, served: ServedInfo): GatewayError {
  const body = tryParseJson(text) ?? text;
  const { code, message } = clientFormats[format].readError(body);
  return new GatewayError({ status, code, message, body, headers, served });
}
