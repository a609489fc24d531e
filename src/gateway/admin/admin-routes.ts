import type { QueueState } from '../../engine/engine.js';
import type { Clock } from '../../core/clock.js';
import type { Observability } from '../../observability/observability.js';
import type { StoreStatus } from '../../state/redis-status.js';
import type { Topology } from '../../observability/topology.js';
import { headerOf, type GatewayRequest, type GatewayResponse, type Handler } from '../http.js';
import type { Routes } from '../routes.js';
import type { FrontDoor } from '../front-door.js';
import type { ReloadOutcome } from '../config-reload.js';
import { AdminAccess, isCrossSite } from './access.js';
import { KeysApi } from './keys-api.js';
import { LoginThrottle } from './login-throttle.js';
import { AdminApi } from './admin-api.js';
import { adminError, adminJson, content, guarded, pageSecurityHeaders, privateHeaders } from './admin-http.js';
import { openEventStream } from './event-stream.js';
import { asset } from './static-assets.js';

export interface AdminRoutesOptions {
  observability: Observability;
  topology: Topology;
  /** `server.admin_token`; without it admin answers only to loopback clients. */
  adminToken?: string | undefined;
  /** Where circuit and health state lives now (memory, redis, local-fallback). */
  stateStatus: () => StoreStatus;
  clock: Clock;
  /** Keys and their store (for /admin/api/keys and the audit log). */
  frontDoor?: FrontDoor | undefined;
  /** `POST /admin/api/reload`, when the gateway can reload its config. */
  reload?: (() => Promise<ReloadOutcome>) | undefined;
  /** Each route's queue now (depth by priority, recent waits). */
  queues?: (() => readonly QueueState[]) | undefined;
}

/** Code only, no data: served to anyone so that the sign-in page can be styled. */
const publicAssets: ReadonlyArray<[path: string, file: string]> = [
  ['/dashboard/app.js', 'dashboard.js'],
  ['/dashboard/charts.js', 'charts.js'],
  ['/dashboard/app.css', 'dashboard.css'],
  ['/status/app.js', 'status.js'],
  ['/status/app.css', 'status.css'],
];

function serveAsset(file: string, headers: Record<string, string> = {}): Handler {
  return () => {
    const found = asset(file);
    return content(200, found.contentType, found.body, { 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache', ...headers });
  };
}

function wantsJson(request: GatewayRequest): boolean {
  const accept = headerOf(request, 'accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

async function readForm(request: GatewayRequest, maxBytes = 4096): Promise<URLSearchParams | undefined> {
  if (request.body.type !== 'stream') return undefined;
  try {
    const raw = await request.body.read(maxBytes);
    return new URLSearchParams(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Adds the operator's endpoints to the route table: `/metrics`, `/admin/api/*`, `/dashboard`
 * (admin: loopback only, or the admin token) and `/status` (public). Returns a closer that
 * ends open event streams, so that an open dashboard never holds a shutdown.
 */
export function addAdminRoutes(routes: Routes, options: AdminRoutesOptions): { close(): void } {
  const clock = options.clock;
  const access = new AdminAccess(options.adminToken, clock);
  const throttle = new LoginThrottle(clock);
  const { observability } = options;
  const door = options.frontDoor;
  const keys = door ? new KeysApi(door, observability, clock) : undefined;
  const actorOf = (request: GatewayRequest): string => `admin-api:${request.peer?.address ?? 'in-process'}`;
  const audit = (request: GatewayRequest, action: string, details?: Record<string, unknown>): void => {
    void door?.store?.audit({ at: clock.now(), actor: actorOf(request), action, details }).catch(() => undefined);
  };
  const guard = (handler: Handler): Handler => guarded(access, handler);
  const api = new AdminApi(observability, options.topology, options.stateStatus, options.clock, options.queues);
  const streams = new Set<() => void>();
  const admin = (path: string, handler: Handler, isPage = false): void => void routes.get(path, guarded(access, handler, { isPage }));

  admin('/metrics', async () => {
    await keys?.refreshMetrics().catch(() => undefined);
    return content(200, observability.metrics.contentType, await observability.metrics.text(), { 'cache-control': 'no-store' });
  });
  admin('/admin/api/overview', api.overview);
  admin('/admin/api/targets', api.targets);
  admin('/admin/api/stats', api.stats);
  admin('/admin/api/timeseries', api.timeseries);
  admin('/admin/api/traffic', api.traffic);
  admin('/admin/api/costs', api.costs);
  admin('/admin/api/slo', api.slo);
  admin('/admin/api/incidents', api.incidents);
  admin('/admin/api/recent', api.recent);
  admin('/admin/api/requests', api.requests);
  const reload = options.reload;
  routes.post(
    '/admin/api/reload',
    guarded(access, async () => {
      if (!reload) return adminError(404, 'NOT_FOUND', 'this gateway cannot reload: it was not started from a config file');
      const outcome = await reload();
      // The same problems `detour check` prints, one per line, and the old config still serving.
      return content(outcome.ok ? 200 : 400, 'application/json', JSON.stringify(outcome.ok ? { status: 'reloaded', ...outcome } : { status: 'rejected', ...outcome }), { 'cache-control': 'no-store' });
    }),
  );
  admin('/admin/api/events', (request) => {
    const stream = openEventStream(observability.feed, request);
    streams.add(stream.end);
    request.signal.addEventListener('abort', () => streams.delete(stream.end), { once: true });
    return stream.response;
  });
  if (keys) {
    admin('/admin/api/keys', keys.list);
    routes.post('/admin/api/keys', guard((request) => keys.create(request, actorOf(request))));
    routes.get('/admin/api/keys/:id', guard((request, context) => keys.show(context.params.id ?? '')));
    routes.on('DELETE', '/admin/api/keys/:id', guard((request, context) => keys.revoke(context.params.id ?? '', actorOf(request))));
    routes.post('/admin/api/keys/:id/rotate', guard((request, context) => keys.rotate(request, context.params.id ?? '', actorOf(request))));
  }
  admin('/admin/api/audit', async (request) => {
    if (!door?.store) return adminError(404, 'AUDIT_LOG_DISABLED', 'The audit log lives in the request-log database, which is off (log.enabled: false and no auth.secret).');
    const limit = Math.min(1000, Math.max(1, Number(new URLSearchParams(request.search).get('limit') ?? 100) || 100));
    const entries = await door.store.auditLog(limit);
    return adminJson(200, { data: entries.map((entry) => ({ ...entry, at: new Date(entry.at).toISOString() })) });
  });
  admin('/admin/api/session', (request) => {
    const verdict = access.check(request);
    return adminJson(200, { via: verdict.isAllowed ? verdict.via : null, csrf_token: verdict.isAllowed ? (verdict.csrfToken ?? null) : null });
  });
  routes.post(
    '/admin/logout',
    guard((request) => {
      audit(request, 'admin.logout');
      return { status: 204, headers: { ...privateHeaders, 'set-cookie': access.endSession(request) }, body: '' };
    }),
  );
  admin('/dashboard', serveAsset('dashboard.html', { ...privateHeaders, ...pageSecurityHeaders }), true);
  for (const [path, file] of publicAssets) routes.get(path, serveAsset(file));

  routes.post('/admin/login', async (request): Promise<GatewayResponse> => {
    if (!access.hasToken) return adminError(404, 'NOT_FOUND', 'No admin token is configured.');
    // Login CSRF: another site must not sign a browser in (to an attacker's session or at all).
    if (isCrossSite(request)) return adminError(403, 'CSRF_REFUSED', 'Cross-site sign-in is refused.');
    const address = request.peer?.address ?? 'in-process';
    const waitMs = throttle.waitMs(address);
    if (waitMs > 0) {
      return adminError(429, 'LOGIN_THROTTLED', `Too many wrong tokens from this address: try again in ${Math.ceil(waitMs / 1000)} s.`, { 'retry-after': String(Math.ceil(waitMs / 1000)) });
    }
    const form = await readForm(request);
    const token = form?.get('token') ?? '';
    if (!access.isToken(token)) {
      const delayMs = throttle.recordFailure(address);
      audit(request, 'admin.login_failed', { retry_after_ms: delayMs });
      return adminError(401, 'UNAUTHORIZED', 'The admin token is wrong.');
    }
    throttle.recordSuccess(address);
    audit(request, 'admin.login');
    return { status: 303, headers: { ...privateHeaders, location: '/dashboard', 'set-cookie': access.startSession(request) }, body: '' };
  });

  const statusJson = (): GatewayResponse =>
    // Public and read-only: other status aggregators may fetch it from the browser.
    content(200, 'application/json; charset=utf-8', JSON.stringify(observability.status.publicStatus()), {
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    });
  routes.get('/status.json', statusJson);
  const statusPage = serveAsset('status.html', { ...pageSecurityHeaders, 'x-frame-options': 'DENY' });
  routes.get('/status', (request, context) => (wantsJson(request) ? statusJson() : statusPage(request, context)));

  return {
    close() {
      for (const end of streams) end();
      streams.clear();
    },
  };
}
