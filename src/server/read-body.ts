import type { IncomingMessage } from 'node:http';
import { DetourError } from '../core/errors.js';
import { tooLarge } from '../gateway/request-body.js';

/**
 * Reads a request body up to `limit` bytes. A larger body is refused as soon as it is known to
 * be too large (from content-length, or while reading), without buffering the rest.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        request.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // The only way a request body fails to arrive is its client going away mid-upload.
    const onError = (error: Error): void => {
      cleanup();
      reject(new DetourError({ kind: 'fatal', code: 'CLIENT_CLOSED', status: 499, message: 'the client closed the connection while sending its request', cause: error }));
    };
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}
