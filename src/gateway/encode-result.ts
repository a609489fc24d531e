import type { EngineResult, ServedMeta } from '../engine/result.js';
import { countUpstreamCalls } from '../engine/result.js';
import type { GatewayResponse } from './http.js';

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

/** An engine result as the gateway's response: the whole body, or the stream with its head. */
export function encodeResult(result: EngineResult): GatewayResponse {
  const headers = servedHeaders(result.meta);
  if (result.type === 'body') {
    headers['content-type'] = 'application/json';
    for (const name in result.headers) headers[name] = result.headers[name] as string;
    return { status: result.status, headers, body: result.body, served: result.meta };
  }
  headers['content-type'] = result.contentType;
  headers['cache-control'] = 'no-cache';
  headers['x-accel-buffering'] = 'no';
  return { status: result.status, headers, body: { type: 'stream', head: result.head, rest: result.rest }, served: result.meta };
}
