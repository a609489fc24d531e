import type { Clock } from '../../core/clock.js';
import type { Observability } from '../../observability/observability.js';
import type { StoreStatus } from '../../state/redis-status.js';
import type { Topology } from '../../observability/topology.js';
import { headerOf, type GatewayRequest, type GatewayResponse, type Handler } from '../http.js';
import type { Routes } from '../routes.js';
import { AdminAccess } from './access.js';
import { AdminApi } from './admin-api.js';
import { adminError, content, guarded, pageSecurityHeaders, privateHeaders } from './admin-http.js';
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
  const access = new AdminAccess(options.adminToken);
  const { observability } = options;
  const api = new AdminApi(observability, options.topology, options.stateStatus, options.clock);
  const streams = new Set<() => void>();
  const admin = (path: string, handler: Handler, isPage = false): void => void routes.get(path, guarded(access, handler, { isPage }));

  admin('/metrics', async () => content(200, observability.metrics.contentType, await observability.metrics.text(), { 'cache-control': 'no-store' }));
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
  admin('/admin/api/events', (request) => {
    const stream = openEventStream(observability.feed, request);
    streams.add(stream.end);
    request.signal.addEventListener('abort', () => streams.delete(stream.end), { once: true });
    return stream.response;
  });
  admin('/dashboard', serveAsset('dashboard.html', { ...privateHeaders, ...pageSecurityHeaders }), true);
  for (const [path, file] of publicAssets) routes.get(path, serveAsset(file));

  routes.post('/admin/login', async (request): Promise<GatewayResponse> => {
    const form = await readForm(request);
    const token = form?.get('token') ?? '';
    if (!access.hasToken || !access.isToken(token)) {
      return adminError(access.hasToken ? 401 : 404, access.hasToken ? 'UNAUTHORIZED' : 'NOT_FOUND', access.hasToken ? 'The admin token is wrong.' : 'No admin token is configured.');
    }
    return { status: 303, headers: { ...privateHeaders, location: '/dashboard', 'set-cookie': access.sessionCookie(request) }, body: '' };
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
