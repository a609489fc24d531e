import type { JSONObject, SharedV3Headers } from '@ai-sdk/provider';
import type { ServedInfo } from '../library/served.js';

/**
 * Who served a call, as AI SDK provider metadata (`providerMetadata.detour`): JSON only, with
 * absent values left out rather than set to undefined.
 */
export function servedMetadata(served: ServedInfo): JSONObject {
  return {
    requestId: served.requestId,
    route: served.route,
    ...(served.target !== undefined ? { target: served.target } : {}),
    ...(served.provider !== undefined ? { provider: served.provider } : {}),
    ...(served.model !== undefined ? { model: served.model } : {}),
    ...(served.region !== undefined ? { region: served.region } : {}),
    upstreamCalls: served.upstreamCalls,
    isFailover: served.isFailover,
    isDegraded: served.isDegraded,
    attempts: served.attempts.map((attempt) => JSON.parse(JSON.stringify(attempt)) as JSONObject),
  };
}

/** The `x-detour-*` headers the server would have sent, as the AI SDK's response headers. */
export function servedHeaders(served: ServedInfo): SharedV3Headers {
  const headers: SharedV3Headers = {
    'x-request-id': served.requestId,
    'x-detour-route': served.route,
    'x-detour-attempts': String(served.upstreamCalls),
    'x-detour-failover': String(served.isFailover),
    'x-detour-degraded': String(served.isDegraded),
  };
  if (served.target !== undefined) headers['x-detour-target'] = served.target;
  if (served.provider !== undefined) headers['x-detour-provider'] = served.provider;
  if (served.model !== undefined) headers['x-detour-model'] = served.model;
  if (served.region !== undefined) headers['x-detour-region'] = served.region;
  return headers;
}
