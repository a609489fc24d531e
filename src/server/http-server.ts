import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayCore } from '../gateway/gateway-core.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { answerClientError } from './client-error.js';
import { toGatewayRequest } from './node-request.js';
import { writeResponse } from './write-response.js';

export interface ServerOptions {
  gateway: GatewayCore;
  logger?: Logger | undefined;
  /** How long a client may take to send its headers, and its whole request (slow clients get a 408). */
  headersTimeoutMs?: number | undefined;
  requestTimeoutMs?: number | undefined;
}

/**
 * The HTTP face of Detour: node:http in front of the gateway core. It only converts I/O:
 * routing, parsing, errors and answers are the core's.
 */
export class DetourServer {
  readonly server: Server;
  private readonly gateway: GatewayCore;
  private readonly logger: Logger;

  constructor(options: ServerOptions) {
    this.gateway = options.gateway;
    this.logger = options.logger ?? silentLogger;
    const headersTimeout = options.headersTimeoutMs ?? 60_000;
    const requestTimeout = Math.max(options.requestTimeoutMs ?? 300_000, headersTimeout);
    this.server = createServer(
      // Node checks these timeouts every `connectionsCheckingInterval`: often enough to keep them within a quarter.
      { keepAliveTimeout: 65_000, headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(headersTimeout / 4))) },
      (request, response) => void this.serve(request, response),
    );
    this.server.on('clientError', answerClientError);
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

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const closed = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) closed.abort();
    });
    try {
      const answer = await this.gateway.handle(toGatewayRequest(request, closed.signal));
      // A body no handler read (a 404, a refused admin call) is drained so the connection stays usable.
      if (!request.complete && answer.headers.connection !== 'close') request.resume();
      await writeResponse(response, answer);
    } catch (error) {
      // Only writing can fail here (the core answers every fault itself): the connection is unusable.
      this.logger.error({ err: error }, 'writing a response failed');
      response.destroy();
    }
  }
}
