import type { ServerResponse } from 'node:http';
import type { ServedMeta, EngineResult } from '../engine/result.js';
import { countUpstreamCalls } from '../engine/result.js';

/** The `x-detour-*` headers: who served the request, after how many upstream calls. */
export function servedHeaders(meta: ServedMeta): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': meta.requestId,
    'x-detour-route': meta.route,
    'x-detour-attempts': String(countUpstreamCalls(meta.attempts)),
    'x-detour-failover': meta.isFailover ? 'true' : 'false',
    'x-detour-degraded': meta.isDegraded ? 'true' : 'false',
  };
  if (meta.target) {
    headers['x-detour-provider'] = meta.target.provider.name;
    headers['x-detour-model'] = meta.target.model;
    headers['x-detour-target'] = meta.target.id;
  }
  return headers;
}

export function sendJson(response: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

/** Writes an engine result: a whole body, or a stream piped as it arrives with backpressure. */
export async function sendResult(response: ServerResponse, result: EngineResult): Promise<void> {
  const headers = servedHeaders(result.meta);
  if (result.type === 'body') {
    sendJson(response, result.status, result.body, { ...headers, ...result.headers });
    return;
  }
  response.writeHead(result.status, {
    'content-type': result.contentType,
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    ...headers,
  });
  response.flushHeaders();
  const rest = result.rest;
  try {
    if (!(await write(response, result.head))) return;
    for await (const text of rest) {
      if (!(await write(response, text))) return;
    }
    response.end();
  } finally {
    // Stops the upstream read if we left early (client gone); a no-op when the stream ended.
    await rest.return(undefined);
  }
}

/** A client that reads nothing for this long is cut off, so that it cannot hold its request forever. */
const clientStallMs = 30_000;

/** Writes and waits for the socket to drain when it is full; false when the client is gone (or stalled). */
function write(response: ServerResponse, text: string): Promise<boolean> | boolean {
  if (response.destroyed || response.writableEnded) return false;
  if (response.write(text)) return true;
  return new Promise((resolve) => {
    const settle = (isOpen: boolean): void => {
      clearTimeout(timer);
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(isOpen);
    };
    const onDrain = (): void => settle(!response.destroyed);
    const onClose = (): void => settle(false);
    const timer = setTimeout(() => {
      response.destroy();
      settle(false);
    }, clientStallMs);
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}
