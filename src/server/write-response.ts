import type { ServerResponse } from 'node:http';
import { isResponseStream, type GatewayResponse, type ResponseStream } from '../gateway/http.js';

/** Writes the gateway's response: a whole body with its length, or a stream piped as it is pulled, with backpressure. */
export async function writeResponse(response: ServerResponse, answer: GatewayResponse): Promise<void> {
  if (answer.isClientGone) return;
  const body = answer.body;
  if (!isResponseStream(body)) {
    if (response.headersSent) {
      response.end();
      return;
    }
    const headers = answer.headers;
    headers['content-length'] = String(body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    response.writeHead(answer.status, headers);
    response.end(body);
    return;
  }
  await writeStream(response, answer.status, answer.headers, body);
}

async function writeStream(response: ServerResponse, status: number, headers: Record<string, string>, stream: ResponseStream): Promise<void> {
  const rest = stream.rest;
  try {
    if (response.destroyed) return;
    response.writeHead(status, headers);
    // The head goes out with the headers in one write; only an empty head leaves them to be sent on their own.
    if (stream.head === '') response.flushHeaders();
    if (!(await write(response, stream.head))) return;
    for await (const text of rest) {
      if (!(await write(response, text))) return;
    }
    response.end();
  } finally {
    // Stops the upstream read if we left early (client gone); a no-op when the stream ended.
    await rest.return(undefined);
  }
}

/** A client that reads nothing for this long is cut off, so that it cannot hold its request forever. */
const clientStallMs = 30_000;

/** Writes and waits for the socket to drain when it is full; false when the client is gone (or stalled). */
function write(response: ServerResponse, text: string): Promise<boolean> | boolean {
  if (response.destroyed || response.writableEnded) return false;
  if (text === '' || response.write(text)) return true;
  return new Promise((resolve) => {
    const settle = (isOpen: boolean): void => {
      clearTimeout(timer);
      response.off('drain', onDrain);
      response.off('close', onClose);
      resolve(isOpen);
    };
    const onDrain = (): void => settle(!response.destroyed);
    const onClose = (): void => settle(false);
    const timer = setTimeout(() => {
      response.destroy();
      settle(false);
    }, clientStallMs);
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}
