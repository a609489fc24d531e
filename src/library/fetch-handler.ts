import type { GatewayCore } from '../gateway/gateway-core.js';
import { isResponseStream, type GatewayResponse } from '../gateway/http.js';
import { CallAbort } from './call-abort.js';
import { toGatewayRequest } from './fetch-request.js';
import { toResponseBody } from './stream-body.js';

/** A `fetch`-compatible function, the shape the official SDKs take as their `fetch` option. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface FetchHandlerOptions {
  gateway: GatewayCore;
  /** Called before each request: throws once the gateway is closed. */
  assertOpen(): void;
}

/** Headers that describe a connection, meaningless (and refused by some runtimes) on an in-process `Response`. */
const connectionHeaders = new Set(['connection', 'keep-alive', 'content-length']);

/**
 * The gateway core as an in-process `fetch`: an official SDK pointed at any base URL with this
 * as its `fetch` runs on the engine with no socket, and gets the server's answers: same route
 * table, statuses, bodies, streams and headers.
 */
export function createFetchHandler(options: FetchHandlerOptions): FetchFunction {
  return async (input, init) => {
    options.assertOpen();
    const callerSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const abort = new CallAbort(callerSignal ?? undefined);
    let answer: GatewayResponse;
    try {
      answer = await options.gateway.handle(toGatewayRequest(input, init, abort.signal));
    } catch (error) {
      abort.release();
      throw error;
    }
    if (abort.isAbortedByCaller) {
      abort.release();
      if (isResponseStream(answer.body)) await answer.body.rest.return(undefined);
      throw abort.callerReason();
    }
    return toResponse(answer, abort, callerSignal ?? undefined);
  };
}

function toResponse(answer: GatewayResponse, abort: CallAbort, callerSignal: AbortSignal | undefined): Response {
  const headers: Record<string, string> = {};
  for (const name in answer.headers) if (!connectionHeaders.has(name)) headers[name] = answer.headers[name] as string;
  const body = answer.body;
  if (isResponseStream(body)) return new Response(toResponseBody(body, abort, callerSignal), { status: answer.status, headers });
  abort.release();
  // A 204/304 (or a redirect with no body) must be built without one.
  return new Response(body === undefined || body === '' ? null : body, { status: answer.status, headers });
}
