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

/**
 * A plain body's chunks, pulled one at a time: what `for await` over a Readable yields (each
 * chunk as read, the end, the error that destroyed it, a premature close as an error) without
 * the async generator and `finished` that Node's iterator builds for every stream. A stream is
 * read this way from its first event to its end.
 */
class ReadableChunks implements AsyncIterator<Buffer> {
  private waiter: { resolve(result: IteratorResult<Buffer>): void; reject(error: unknown): void } | undefined;
  /** Settles (either way) after the read in flight. */
  private pending: Promise<unknown> | undefined;
  private isEnded = false;
  private isFailed = false;
  private failure: unknown;

  constructor(private readonly body: Readable) {
    body.on('readable', this.onReadable);
    body.once('end', this.onEnd);
    body.once('error', this.onError);
    body.once('close', this.onClose);
  }

  next(): Promise<IteratorResult<Buffer>> {
    // One read at a time, as with Node's iterator: a second call waits for the first.
    if (this.pending) return this.pending.then(() => this.next());
    if (this.isFailed) return Promise.reject(this.failure);
    const chunk = this.body.read() as Buffer | null;
    if (chunk !== null) return Promise.resolve({ done: false, value: chunk });
    if (this.isEnded) return Promise.resolve({ done: true, value: undefined });
    const pending = new Promise<IteratorResult<Buffer>>((resolve, reject) => (this.waiter = { resolve, reject }));
    this.pending = pending.then(
      () => (this.pending = undefined),
      () => (this.pending = undefined),
    );
    return pending;
  }

  private readonly onReadable = (): void => {
    const waiter = this.waiter;
    if (!waiter) return;
    // At the end, 'readable' comes once more with nothing to read: 'end' follows.
    const chunk = this.body.read() as Buffer | null;
    if (chunk === null) return;
    this.waiter = undefined;
    waiter.resolve({ done: false, value: chunk });
  };

  private readonly onEnd = (): void => {
    this.isEnded = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ done: true, value: undefined });
  };

  private readonly onError = (error: unknown): void => this.fail(error);

  private readonly onClose = (): void => {
    // Destroyed without an error before its end: as Node's iterator says it.
    if (!this.isEnded) this.fail(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  };

  private fail(error: unknown): void {
    if (this.isFailed) return;
    this.isFailed = true;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}

/** The codings a `content-encoding` header lists, lower-cased, `identity` left out. */
export function contentCodings(header: string | string[] | undefined): string[] {
  if (header === undefined || header === '') return [];
  return (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
}

/** A stream's body, decoded as `decodedBody` does, to be read chunk by chunk (a plain one without Node's async iterator). */
export function bodyChunks(response: UpstreamResponse, target: string): AsyncIterator<Buffer> {
  if (contentCodings(response.headers['content-encoding']).length === 0) return new ReadableChunks(response.body);
  return decodedBody(response, target)[Symbol.asyncIterator]();
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
