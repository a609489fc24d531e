import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DetourError } from '../core/errors.js';
import type { Engine } from '../engine/engine.js';
import { ingressCodecs } from '../providers/registry.js';
import type { IngressCodec } from '../providers/types.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { handleChat } from './chat-handler.js';
import { modelsListBody } from './models-list.js';
import { sendJson } from './respond.js';

export interface ServerOptions {
  engine: Engine;
  maxBodyBytes: number;
  logger?: Logger;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** The HTTP face of Detour: OpenAI- (and later Anthropic-) compatible ingress on node:http. */
export class DetourServer {
  readonly server: Server;
  private readonly routes = new Map<string, Handler>();
  private readonly startedAt = Math.floor(Date.now() / 1000);
  private readonly logger: Logger;

  constructor(private readonly options: ServerOptions) {
    this.logger = options.logger ?? silentLogger;
    const openai = ingressCodecs.openai as IngressCodec;
    this.routes.set('POST /v1/chat/completions', (request, response) => handleChat(openai, request, response, options));
    this.routes.set('POST /chat/completions', (request, response) => handleChat(openai, request, response, options));
    // No client key is checked yet; Anthropic clients send theirs as `x-api-key`, or as a bearer token, and auth must take both.
    const anthropic = ingressCodecs.anthropic as IngressCodec;
    this.routes.set('POST /v1/messages', (request, response) => handleChat(anthropic, request, response, options));
    this.routes.set('GET /v1/models', (request, response) => this.listModels(request, response));
    this.routes.set('GET /healthz', (_request, response) => sendJson(response, 200, '{"status":"ok"}'));
    this.server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => this.dispatch(request, response));
  }

  /** Adds a route (used by later layers: Anthropic ingress, admin API, dashboard). */
  addRoute(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  async listen(port: number, host: string): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { host: address.address, port: address.port, url: `http://${shownHost}:${address.port}` };
  }

  /** Stops accepting connections and lets requests in flight finish (up to `graceMs`). */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  private dispatch(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const handler = this.routes.get(`${request.method} ${path}`);
    // An Anthropic client (its path, or its version header) gets errors in Anthropic's shape.
    const isAnthropic = path.startsWith('/v1/messages') || request.headers['anthropic-version'] !== undefined;
    const codec = ((isAnthropic ? ingressCodecs.anthropic : undefined) ?? ingressCodecs.openai) as IngressCodec;
    if (!handler) {
      const isKnownPath = [...this.routes.keys()].some((key) => key.endsWith(` ${path}`));
      const status = isKnownPath ? 405 : 404;
      const code = isKnownPath ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND';
      sendJson(response, status, codec.encodeError({ status, code, message: `${request.method} ${path} is not served here` }));
      request.resume();
      return;
    }
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      this.logger.error({ err: error instanceof DetourError ? error.message : error }, 'unhandled error in handler');
      if (!response.headersSent) sendJson(response, 500, codec.encodeError({ status: 500, code: 'INTERNAL_ERROR', message: 'internal error' }));
      else response.destroy();
    });
  }

  private listModels(request: IncomingMessage, response: ServerResponse): void {
    sendJson(response, 200, modelsListBody(this.options.engine.routes.names(), this.startedAt, request.headers['anthropic-version'] !== undefined));
  }
}
