import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local webhook endpoint on 127.0.0.1: records each JSON body and answers with the scripted
 * statuses, then 200. `hang` holds every request open (a dead webhook).
 */
export class WebhookReceiver {
  readonly bodies: unknown[] = [];
  readonly headers: IncomingMessage['headers'][] = [];
  private readonly server: Server;
  private readonly held: ServerResponse[] = [];
  private readonly waiters: Array<{ count: number; resolve(): void }> = [];
  url = '';

  constructor(private readonly script: number[] = [], private readonly hang = false) {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.headers.push(request.headers);
        this.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        for (const waiter of this.waiters.filter((candidate) => this.bodies.length >= candidate.count)) waiter.resolve();
        if (this.hang) this.held.push(response);
        else response.writeHead(this.script.shift() ?? 200).end('ok');
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves once `count` bodies have arrived. */
  received(count: number): Promise<void> {
    if (this.bodies.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
