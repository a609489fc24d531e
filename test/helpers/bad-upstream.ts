import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the bad upstream answers one request; it may write forever (until the client hangs up). */
export type BadAnswer = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A misbehaving OpenAI-compatible upstream on a loopback port: every request gets `answer`,
 * and `bytesSent` counts what it managed to write (bounded readers stop it early). It keeps the
 * bodies it was sent (`bodies`; the current one is the last when `answer` runs).
 */
export class BadUpstream {
  requests = 0;
  /** Every request's body as received, in order. */
  readonly bodies: string[] = [];
  bytesSent = 0;
  /** Connections open now, and the most ever open at once. */
  openConnections = 0;
  peakConnections = 0;
  /** Requests being answered now, and the most ever at once. */
  activeRequests = 0;
  peakActiveRequests = 0;
  private readonly server: Server;

  constructor(public answer: BadAnswer) {
    this.server = createServer((request, response) => {
      this.requests++;
      this.activeRequests++;
      this.peakActiveRequests = Math.max(this.peakActiveRequests, this.activeRequests);
      response.once('close', () => this.activeRequests--);
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.once('end', () => this.bodies.push(Buffer.concat(chunks).toString('utf8')));
      const write = response.write.bind(response);
      response.write = ((chunk: string | Buffer, ...rest: never[]) => {
        this.bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        return write(chunk, ...rest);
      }) as typeof response.write;
      request.once('end', () => this.answer(request, response));
    });
    this.server.on('connection', (socket) => {
      this.openConnections++;
      this.peakConnections = Math.max(this.peakConnections, this.openConnections);
      socket.once('close', () => this.openConnections--);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Writes `chunk` over and over, respecting backpressure, until the reader goes away. */
export function writeForever(response: ServerResponse, chunk: Buffer): void {
  let isClosed = false;
  response.once('close', () => (isClosed = true));
  const pump = (): void => {
    while (!isClosed) {
      if (!response.write(chunk)) {
        response.once('drain', pump);
        return;
      }
    }
  };
  pump();
}
