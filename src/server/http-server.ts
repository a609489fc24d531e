import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LightAbort } from '../core/abort-source.js';
import { DetourError } from '../core/errors.js';
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
  /**
   * One abort per request in flight: aborted when its client leaves, or when shutdown cuts it.
   * Not an `AbortController`: one of those per request showed in profiles, and each attempt
   * listens to it; what needs a real `AbortSignal` makes one from it (`abortSignalOf`).
   */
  private readonly requests = new Set<LightAbort>();
  private readonly onDrained: Array<() => void> = [];
  private isClosing = false;
  /** Before closing: connections are not kept for another request, so that clients reconnect (through their load balancer) elsewhere. */
  private isDraining = false;
  /** What the last shutdown found in flight, and how many of those it had to cut. */
  shutdown: { inFlight: number; cut: number } | undefined;

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
    this.server.on('clientError', (error: Error & { code?: string; rawPacket?: Buffer }, socket) => answerClientError(error, socket as Socket, (refused) => this.gateway.refusedByTransport(refused)));
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

  /** A shutdown is coming: still accepting and serving, but keeping no connection open after its answer. */
  startDraining(): void {
    this.isDraining = true;
  }

  /** Requests being answered now (streams until their last byte). */
  get inFlight(): number {
    return this.requests.size;
  }

  /**
   * Graceful shutdown: stops accepting connections at once, lets requests and streams in flight
   * finish for up to `graceMs`, then ends what is left with an explicit error (`SHUTTING_DOWN`:
   * a 503 in the client's format, or an error event in a stream that had started) so that every
   * request is answered and reaches the request log. Keep-alive connections are closed as they
   * fall idle, so a load balancer moves their next requests elsewhere.
   */
  async close(graceMs = 30_000): Promise<void> {
    const before = this.requests.size;
    this.isClosing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.requests.size > 0) await this.drained(graceMs);
    const cut = this.requests.size;
    const reason = new DetourError({ kind: 'fatal', code: 'SHUTTING_DOWN', status: 503, message: `Detour is shutting down and this request did not finish within ${graceMs} ms` });
    for (const request of this.requests) request.abort(reason);
    // Cut requests answer at once (their attempts are aborted); a client that stopped reading is not waited for long.
    if (this.requests.size > 0) await this.drained(2000);
    this.server.closeAllConnections();
    await closed;
    this.shutdown = { inFlight: before, cut };
  }

  /** Resolves once no request is in flight, or after `ms`. */
  private drained(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.onDrained.push(done);
    });
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const closed = new LightAbort();
    this.requests.add(closed);
    response.on('close', () => {
      if (!response.writableFinished) closed.abort();
    });
    try {
      const answer = await this.gateway.handle(toGatewayRequest(request, closed));
      // A body no handler read (a 404, a refused admin call) is drained so the connection stays usable.
      if (!request.complete && answer.headers.connection !== 'close') request.resume();
      // While shutting down, no connection is kept for another request: the client reconnects elsewhere.
      if (this.isClosing || this.isDraining) answer.headers.connection = 'close';
      await writeResponse(response, answer);
    } catch (error) {
      // Only writing can fail here (the core answers every fault itself): the connection is unusable.
      this.logger.error({ err: error }, 'writing a response failed');
      response.destroy();
    } finally {
      this.requests.delete(closed);
      if (this.isClosing) {
        this.server.closeIdleConnections();
        if (this.requests.size === 0) for (const resolve of this.onDrained.splice(0)) resolve();
      }
    }
  }
}
