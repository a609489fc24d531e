import { createBrotliDecompress, createGunzip, createInflate, type Gunzip } from 'node:zlib';
import { finished, Readable } from 'node:stream';
import { DetourError } from '../core/errors.js';
import type { UpstreamResponse } from './upstream-http.js';

type Decoder = () => Gunzip | ReturnType<typeof createBrotliDecompress> | ReturnType<typeof createInflate>;

/** The content codings Detour can decode; anything else is refused, never passed on undecoded. */
export const decoders: Readonly<Record<string, Decoder>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

export function badResponse(target: string, message: string, cause?: unknown): DetourError {
  // A 200 that is not an answer says the target is broken: another target, not the same one again.
  return new DetourError({ kind: 'failover', code: 'UPSTREAM_BAD_RESPONSE', status: 502, target, message: `${target} ${message}`, cause });
}

/**
 * The response body as the bytes it stands for: decoded when the upstream compressed it
 * (`content-encoding: gzip | deflate | br`, even though Detour never asked for it), refused for
 * a coding Detour cannot read.
 */
export function decodedBody(response: UpstreamResponse, target: string): AsyncIterable<Buffer> {
  const codings = contentCodings(response.headers['content-encoding']);
  if (codings.length === 0) return response.body as AsyncIterable<Buffer>;
  const unknown = codings.find((coding) => !decoders[coding]);
  if (unknown !== undefined) throw badResponse(target, `answered with content-encoding "${unknown.slice(0, 40)}", which Detour cannot decode`);
  let isTransportFailed = false;
  response.body.once('error', () => (isTransportFailed = true));
  let stream: Readable = response.body;
  // Codings are listed in the order they were applied: undo them from the last.
  for (const coding of codings.reverse()) {
    const decoding = (decoders[coding] as Decoder)();
    const source = stream;
    source.on('error', (error) => decoding.destroy(error));
    stream = source.pipe(decoding);
  }
  const decoded = stream;
  return (async function* () {
    try {
      for await (const chunk of decoded) yield chunk as Buffer;
    } catch (error) {
      // A corrupt compressed body is the upstream's bad answer; a broken connection stays a transport failure.
      if (!isTransportFailed) throw badResponse(target, `sent a body that does not decode as ${codings.join(', ')}`, error);
      throw error;
    } finally {
      decoded.destroy();
      response.body.destroy();
    }
  })();
}

/** The codings a `content-encoding` header lists, lower-cased, `identity` left out. */
export function contentCodings(header: string | string[] | undefined): string[] {
  if (header === undefined || header === '') return [];
  return (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
}

/** Reads a whole non-streaming body, refusing it once it passes `limit` bytes (decoded). */
export function readBoundedBody(body: AsyncIterable<Buffer> | Readable, limit: number, target: string): Promise<Buffer> {
  return body instanceof Readable ? readReadable(body, limit, target) : readIterable(body, limit, target);
}

/**
 * A plain (not encoded) body, read by its events: an async iterator over a Readable costs a
 * generator and a promise per chunk, and an answer is usually one or two chunks. `finished`
 * settles it however the stream ends, also when that happened before this was called.
 */
function readReadable(body: Readable, limit: number, target: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let isRefused = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      isRefused = true;
      body.off('data', onData);
      body.destroy();
      reject(badResponse(target, `sent a body larger than server.max_upstream_body_bytes (${limit} bytes)`));
    };
    body.on('data', onData);
    finished(body, (error) => {
      if (isRefused) return;
      body.off('data', onData);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
  });
}

async function readIterable(body: AsyncIterable<Buffer>, limit: number, target: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw badResponse(target, `sent a body larger than server.max_upstream_body_bytes (${limit} bytes)`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
