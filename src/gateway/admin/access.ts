import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { headerOf, type GatewayRequest } from '../http.js';

export type AccessVerdict =
  | { isAllowed: true; via: 'local' | 'bearer' | 'session'; csrfToken?: string | undefined }
  | { isAllowed: false; status: 401 | 403; message: string };

const cookieName = 'detour_admin';
const proxyHeaders = ['x-forwarded-for', 'forwarded', 'x-real-ip'];
const sessionMs = 12 * 3_600_000;
/** Sessions held at once; the oldest goes first past it. */
const maxSessions = 1000;

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

interface Session {
  expiresAt: number;
  /** Sent back in `x-detour-csrf` by every state-changing request made with this session. */
  csrfToken: string;
}

/**
 * Who may see `/admin/*`, `/dashboard` and `/metrics`. Without a token, only loopback clients;
 * with `server.admin_token`, every client (loopback included) must present it: as a bearer
 * token (API, Prometheus) or as the session cookie the dashboard's login form sets. A session
 * is a random id held here (never derived from the token): `POST /admin/logout` ends one, and
 * a new token (a restart with another config) ends them all.
 */
export class AdminAccess {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly token: string | undefined,
    private readonly clock: Clock,
  ) {}

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  check(request: GatewayRequest): AccessVerdict {
    if (this.token === undefined) {
      if (isLocalRequest(request)) return { isAllowed: true, via: 'local' };
      return { isAllowed: false, status: 403, message: 'The admin endpoints answer only to localhost. Set server.admin_token to allow remote access with a bearer token.' };
    }
    const authorization = headerOf(request, 'authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(.+)$/i.exec(authorization);
      if (match?.[1] !== undefined && safeEqual(match[1].trim(), this.token)) return { isAllowed: true, via: 'bearer' };
      return { isAllowed: false, status: 401, message: 'The admin token is wrong.' };
    }
    const session = this.sessionOf(request);
    if (session) return { isAllowed: true, via: 'session', csrfToken: session.csrfToken };
    return { isAllowed: false, status: 401, message: 'An admin token is required: send "Authorization: Bearer <server.admin_token>".' };
  }

  /** Whether a submitted token is right (the login form). */
  isToken(candidate: string): boolean {
    return this.token !== undefined && safeEqual(candidate, this.token);
  }

  /** Starts a session; returns its Set-Cookie header (Secure when the client reached us over HTTPS). */
  startSession(request: GatewayRequest): string {
    const now = this.clock.now();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
    while (this.sessions.size >= maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { expiresAt: now + sessionMs, csrfToken: randomBytes(24).toString('base64url') });
    const isHttps = headerOf(request, 'x-forwarded-proto') === 'https' || request.peer?.isEncrypted === true;
    return `${cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${sessionMs / 1000}${isHttps ? '; Secure' : ''}`;
  }

  /** Ends the request's session, if it has one; returns the Set-Cookie header that clears the cookie. */
  endSession(request: GatewayRequest): string {
    const id = cookieValue(request, cookieName);
    if (id !== undefined) this.sessions.delete(id);
    return `${cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private sessionOf(request: GatewayRequest): Session | undefined {
    const id = cookieValue(request, cookieName);
    if (id === undefined || id.length > 100) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.clock.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }
}

/**
 * Whether a state-changing admin request may come from a browser page: never from another site
 * (its `Origin` or `Sec-Fetch-Site` says so; every browser sends one on a cross-site POST or
 * DELETE), and, when signed in by cookie, only with the session's CSRF token in `x-detour-csrf`.
 * A bearer token cannot be sent by a browser on its own, so it needs neither.
 */
export function csrfRefusal(request: GatewayRequest, verdict: Extract<AccessVerdict, { isAllowed: true }>): string | undefined {
  if (verdict.via === 'bearer') return undefined;
  if (isCrossSite(request)) return 'Cross-site requests may not change anything here.';
  if (verdict.via === 'session') {
    const sent = headerOf(request, 'x-detour-csrf');
    if (typeof sent !== 'string' || verdict.csrfToken === undefined || !safeEqual(sent, verdict.csrfToken)) {
      return 'Missing or wrong CSRF token: send the x-detour-csrf header from GET /admin/api/session.';
    }
  }
  return undefined;
}

/** A request a browser made for a page of another origin. */
export function isCrossSite(request: GatewayRequest): boolean {
  const site = headerOf(request, 'sec-fetch-site');
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = headerOf(request, 'origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== headerOf(request, 'host');
  } catch {
    return true;
  }
}
