import { corsHeaders, isAllowedHost, isJsonContentType } from '../auth/request-policy.js';
import { gatewayError } from './error-format.js';
import type { FrontDoor } from './front-door.js';
import { headerOf, type GatewayRequest, type GatewayResponse } from './http.js';

/** What the front door decided about a request that came over a network, before its route runs. */
export type PolicyVerdict = { refusal: GatewayResponse } | { cors: Record<string, string> | undefined };

/** Operator endpoints: admin API, dashboard, metrics, status. Everything else is the public API. */
export function isPublicPath(path: string): boolean {
  return !path.startsWith('/admin/') && path !== '/metrics' && !path.startsWith('/dashboard') && !path.startsWith('/status');
}

/**
 * The HTTP rules of the front door, for requests from a network peer (an in-process call has no
 * Host, no Origin and no browser): the `Host` check against DNS rebinding (without an admin
 * token), CORS answers only for `server.cors_origins`, and JSON-only public POSTs, so that a
 * cross-site form or `text/plain` POST never reaches an upstream.
 */
export function httpPolicy(request: GatewayRequest, door: FrontDoor, hasRoute: boolean): PolicyVerdict {
  // A load balancer's health check sends whatever Host it likes (none with HTTP/1.0, a backend's address); /healthz tells a rebinding page nothing.
  if (door.allowedHosts && request.path !== '/healthz' && !isAllowedHost(headerOf(request, 'host'), door.allowedHosts)) {
    return { refusal: refusal(request, 403, 'FORBIDDEN', `Host "${headerOf(request, 'host') ?? ''}" is not served here. Set server.allowed_hosts to the names clients use to reach Detour (or set server.admin_token).`) };
  }
  const isPublic = isPublicPath(request.path);
  const cors = isPublic ? corsHeaders(headerOf(request, 'origin'), door.corsOrigins, request.method === 'OPTIONS') : undefined;
  if (request.method === 'OPTIONS' && isPublic) return { refusal: { status: cors ? 204 : 403, headers: { ...cors }, body: '' } };
  if (isPublic && request.method === 'POST' && hasRoute && !isJsonContentType(headerOf(request, 'content-type'))) {
    const sent = headerOf(request, 'content-type');
    const response = refusal(request, 415, 'UNSUPPORTED_MEDIA_TYPE', `The request body must be JSON, sent with "content-type: application/json" (got ${sent === undefined ? 'none' : `"${sent}"`}).`);
    return { refusal: cors ? { ...response, headers: { ...response.headers, ...cors } } : response };
  }
  return { cors };
}

function refusal(request: GatewayRequest, status: number, code: string, message: string): GatewayResponse {
  if (request.path.startsWith('/admin/')) {
    return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ error: { code, message } }), errorCode: code };
  }
  return gatewayError(request, status, code, message);
}
