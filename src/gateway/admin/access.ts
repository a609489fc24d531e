import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { headerOf, type GatewayRequest } from '../http.js';

export type AccessVerdict = { isAllowed: true } | { isAllowed: false; status: 401 | 403; message: string };

const cookieName = 'detour_admin';
const proxyHeaders = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/** A loopback peer that did not come through a proxy (a proxy on the same host makes everyone look local). */
export function isLocalRequest(request: GatewayRequest): boolean {
  // An in-process call has no peer: it is not taken for local, since an application may well
  // mount the gateway's `fetch` behind its own server, where everyone would then look local.
  if (!request.peer) return false;
  if (proxyHeaders.some((header) => request.headers[header] !== undefined)) return false;
  const address = request.peer.address;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares in constant time (on digests, so that lengths leak nothing either). */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function cookieValue(request: GatewayRequest, name: string): string | undefined {
  const header = headerOf(request, 'cookie');
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * Who may see `/admin/*`, `/dashboard` and `/metrics`. Without a token, only loopback clients;
 * with `server.admin_token`, every client (loopback included) must present it: as a bearer
 * token (API, Prometheus) or as the session cookie the dashboard's login form sets. The cookie
 * holds an HMAC of the token, never the token.
 */
export class AdminAccess {
  private readonly session: string | undefined;

  constructor(private readonly token: string | undefined) {
    this.session = token === undefined ? undefined : createHmac('sha256', token).update('detour-admin-session-v1').digest('base64url');
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  check(request: GatewayRequest): AccessVerdict {
    if (this.token === undefined || this.session === undefined) {
      if (isLocalRequest(request)) return { isAllowed: true };
      return { isAllowed: false, status: 403, message: 'The admin endpoints answer only to localhost. Set server.admin_token to allow remote access with a bearer token.' };
    }
    const authorization = headerOf(request, 'authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(.+)$/i.exec(authorization);
      if (match?.[1] !== undefined && safeEqual(match[1].trim(), this.token)) return { isAllowed: true };
      return { isAllowed: false, status: 401, message: 'The admin token is wrong.' };
    }
    const cookie = cookieValue(request, cookieName);
    if (cookie !== undefined && safeEqual(cookie, this.session)) return { isAllowed: true };
    return { isAllowed: false, status: 401, message: 'An admin token is required: send "Authorization: Bearer <server.admin_token>".' };
  }

  /** Whether a submitted token is right (the login form). */
  isToken(candidate: string): boolean {
    return this.token !== undefined && safeEqual(candidate, this.token);
  }

  /** The Set-Cookie header for a signed-in dashboard; Secure when the client reached us over HTTPS. */
  sessionCookie(request: GatewayRequest): string {
    const isHttps = headerOf(request, 'x-forwarded-proto') === 'https' || request.peer?.isEncrypted === true;
    return `${cookieName}=${this.session ?? ''}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200${isHttps ? '; Secure' : ''}`;
  }
}
