import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AbortSource } from '../core/abort-source.js';
import type { GatewayRequest, StreamedBody } from '../gateway/http.js';
import { readBody } from './read-body.js';

/** A node:http request as the gateway's request: no copy of the headers, the body read only if a handler asks. */
export function toGatewayRequest(request: IncomingMessage, signal: AbortSource): GatewayRequest {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  const body: StreamedBody = { type: 'stream', read: (limit) => readBody(request, limit), stream: () => request };
  return {
    method: request.method ?? 'GET',
    path: query === -1 ? url : url.slice(0, query),
    search: query === -1 ? '' : url.slice(query + 1),
    headers: request.headers,
    body,
    signal,
    peer: { address: request.socket.remoteAddress ?? '', isEncrypted: (request.socket as Partial<TLSSocket>).encrypted === true },
  };
}
