import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Observability } from '../../observability/observability.js';
import type { StoreStatus } from '../../state/redis-status.js';
import type { Topology } from '../../observability/topology.js';
import type { DetourServer } from '../http-server.js';
import { AdminAccess } from './access.js';
import { AdminApi } from './admin-api.js';
import { guarded, pageSecurityHeaders, privateHeaders, send, sendAdminError, type Handler } from './admin-http.js';
import { serveEventStream } from './event-stream.js';
import { asset } from './static-assets.js';

export interface AdminRoutesOptions {
  observability: Observability;
  topology: Topology;
  /** `server.admin_token`; without it admin answers only to loopback clients. */
  adminToken?: string | undefined;
  /** Where circuit and health state lives now (memory, redis, local-fallback). */
  stateStatus: () => StoreStatus;
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
  return (_request, response) => {
    const found = asset(file);
    send(response, 200, found.contentType, found.body, { 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache', ...headers });
  };
}

function wantsJson(request: IncomingMessage): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

async function readForm(request: IncomingMessage, maxBytes = 4096): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Registers the operator's endpoints on the server: `/metrics`, `/admin/api/*`, `/dashboard`
 * (admin: loopback only, or the admin token) and `/status` (public). Returns a closer that
 * ends open event streams, so that an open dashboard never holds a shutdown.
 */
export function registerAdminRoutes(server: DetourServer, options: AdminRoutesOptions): { close(): void } {
  const access = new AdminAccess(options.adminToken);
  const { observability } = options;
  const api = new AdminApi(observability, options.topology, options.stateStatus);
  const streams = new Set<() => void>();
  const admin = (method: string, path: string, handler: Handler, isPage = false): void => server.addRoute(method, path, guarded(access, handler, { isPage }));

  admin('GET', '/metrics', async (_request, response) => {
    send(response, 200, observability.metrics.contentType, await observability.metrics.text(), { 'cache-control': 'no-store' });
  });
  admin('GET', '/admin/api/overview', api.overview);
  admin('GET', '/admin/api/targets', api.targets);
  admin('GET', '/admin/api/stats', api.stats);
  admin('GET', '/admin/api/timeseries', api.timeseries);
  admin('GET', '/admin/api/costs', api.costs);
  admin('GET', '/admin/api/slo', api.slo);
  admin('GET', '/admin/api/incidents', api.incidents);
  admin('GET', '/admin/api/recent', api.recent);
  admin('GET', '/admin/api/requests', api.requests);
  admin('GET', '/admin/api/events', (request, response) => {
    const end = serveEventStream(observability.feed, request, response);
    streams.add(end);
    response.on('close', () => streams.delete(end));
  });
  admin('GET', '/dashboard', serveAsset('dashboard.html', { ...privateHeaders, ...pageSecurityHeaders }), true);
  for (const [path, file] of publicAssets) server.addRoute('GET', path, serveAsset(file));

  server.addRoute('POST', '/admin/login', async (request, response) => {
    const form = await readForm(request);
    const token = form?.get('token') ?? '';
    if (!access.hasToken || !access.isToken(token)) {
      sendAdminError(response, access.hasToken ? 401 : 404, access.hasToken ? 'UNAUTHORIZED' : 'NOT_FOUND', access.hasToken ? 'The admin token is wrong.' : 'No admin token is configured.');
      return;
    }
    response.writeHead(303, { ...privateHeaders, location: '/dashboard', 'set-cookie': access.sessionCookie(request), 'content-length': 0 });
    response.end();
  });

  const statusJson = (_request: IncomingMessage, response: ServerResponse): void => {
    // Public and read-only: other status aggregators may fetch it from the browser.
    send(response, 200, 'application/json; charset=utf-8', JSON.stringify(observability.status.publicStatus()), {
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    });
  };
  server.addRoute('GET', '/status.json', statusJson);
  const statusPage = serveAsset('status.html', { ...pageSecurityHeaders, 'x-frame-options': 'DENY' });
  server.addRoute('GET', '/status', (request, response) => (wantsJson(request) ? statusJson(request, response) : statusPage(request, response)));

  return {
    close() {
      for (const end of streams) end();
      streams.clear();
    },
  };
}
