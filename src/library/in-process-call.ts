import type { GatewayCore } from '../gateway/gateway-core.js';
import { isResponseStream, wholeBodyText, type GatewayResponse } from '../gateway/http.js';
import { parsedRequestBody } from '../gateway/chat-endpoint.js';
import { tryParseJson } from '../providers/shared/json.js';
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
  /**
   * The caller's W3C trace context (as the `traceparent` / `tracestate` headers would carry it):
   * continued to the upstream, and the parent of the call's span when the config has `telemetry`.
   */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** A whole answer and who served it. */
export interface CallResult<Response> {
  response: Response;
  served: ServedInfo;
}

/** What the library needs to send one request down the gateway's route table. */
export interface CallTarget {
  gateway: GatewayCore;
  format: ClientFormat;
  /** The endpoint, as over HTTP (`/v1/chat/completions`, `/v1/messages`). */
  path: string;
}

/** One non-streaming call; rejects with a `GatewayError` for any answer the server would have sent with an error status. */
export async function callForBody<Response>(target: CallTarget, body: Record<string, unknown>, options: CallOptions): Promise<CallResult<Response>> {
  const { answer, abort } = await send(target, body, options);
  abort.release();
  const served = answer.served && toServedInfo(answer.served);
  if (isResponseStream(answer.body)) {
    // Never happens for a body without `stream: true`; stopping it keeps an upstream from being read for no one.
    await answer.body.rest.return(undefined);
    throw new GatewayError({ status: 502, code: 'INTERNAL_ERROR', message: 'a stream answered a non-streaming request', body: undefined, served });
  }
  const text = wholeBodyText(answer.body);
  if (answer.status >= 400) throw errorOf(target.format, answer, text, served);
  const response = tryParseJson(text);
  if (response === undefined || !served) throw new GatewayError({ status: 502, code: 'UPSTREAM_BAD_RESPONSE', message: `${served?.target ?? 'the upstream'} answered with a body that is not JSON`, body: text, served });
  return { response: response as Response, served };
}

/** One streaming call; resolves once the first event has arrived, before which every failure can still fail over. */
export async function callForStream<Event>(target: CallTarget, body: Record<string, unknown>, options: CallOptions): Promise<ResultStream<Event>> {
  const { answer, abort } = await send(target, body, options);
  const served = answer.served && toServedInfo(answer.served);
  if (isResponseStream(answer.body) && served) return new EngineResultStream<Event>(target.format, answer.body, served, abort);
  abort.release();
  // A stream that failed before its first event is answered as a whole error body, as over HTTP.
  throw errorOf(target.format, answer, wholeBodyText(isResponseStream(answer.body) ? undefined : answer.body), served);
}

/** The call down the same route table as HTTP, with the caller's object as the body: no JSON round trip. */
async function send(target: CallTarget, body: Record<string, unknown>, options: CallOptions): Promise<{ answer: GatewayResponse; abort: CallAbort }> {
  const abort = new CallAbort(options.signal);
  const headers: Record<string, string> = options.requestId === undefined ? {} : { 'x-request-id': options.requestId };
  if (options.traceparent !== undefined) headers.traceparent = options.traceparent;
  if (options.tracestate !== undefined) headers.tracestate = options.tracestate;
  const answer = await target.gateway.handle({ method: 'POST', path: target.path, search: '', headers, body: parsedRequestBody(body), signal: abort.signal });
  if (answer.isClientGone || abort.isAbortedByCaller) {
    abort.release();
    if (isResponseStream(answer.body)) await answer.body.rest.return(undefined);
    throw abort.callerReason();
  }
  return { answer, abort };
}

function errorOf(format: ClientFormat, answer: GatewayResponse, text: string, served: ServedInfo | undefined): GatewayError {
  const body = tryParseJson(text) ?? text;
  const read = clientFormats[format].readError(body);
  // A refusal before the engine carries Detour's own code; an upstream's error passed on, the upstream's.
  return new GatewayError({ status: answer.status, code: answer.errorCode ?? read.code, message: read.message, body, headers: answer.headers, served });
}
