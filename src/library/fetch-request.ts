import { tooLarge } from '../server/read-body.js';

/** The parts of a `fetch` call the in-process gateway reads. */
export interface FetchRequest {
  method: string;
  /** The URL's path; the host is ignored, since no network is involved. */
  path: string;
  headers: Headers;
  signal: AbortSignal | undefined;
  /** The body as text, refused (413) past `limit` bytes as the server does. */
  text(limit: number): Promise<string>;
}

/**
 * Reads `fetch(input, init)` arguments. The SDKs call `fetch(url, { body: string, … })`:
 * that common case is read directly, since building a `Request` would copy the body into a
 * stream only to read it back; anything else goes through `Request`, which knows every form.
 */
export function toFetchRequest(input: string | URL | Request, init: RequestInit | undefined): FetchRequest {
  if (!(input instanceof Request) && (init?.body === undefined || init.body === null || typeof init.body === 'string')) {
    const body = typeof init?.body === 'string' ? init.body : '';
    return {
      method: (init?.method ?? 'GET').toUpperCase(),
      path: new URL(input).pathname,
      headers: new Headers(init?.headers),
      signal: init?.signal ?? undefined,
      text: (limit) => (Buffer.byteLength(body) > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(body)),
    };
  }
  const request = new Request(input, init);
  return {
    method: request.method,
    path: new URL(request.url).pathname,
    headers: request.headers,
    signal: request.signal,
    text: (limit) => readLimited(request, limit),
  };
}

/** Reads a body up to `limit` bytes, stopping (and cancelling the rest) as soon as it is known to be too large. */
async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
