import { DetourError } from '../core/errors.js';
import type { GatewayRequest, StreamedBody } from '../gateway/http.js';
import { tooLarge } from '../gateway/request-body.js';

/**
 * Reads `fetch(input, init)` arguments as the gateway's request. The SDKs call
 * `fetch(url, { body: string, … })`: that common case is read directly, since building a
 * `Request` would copy the body into a stream only to read it back; anything else goes through
 * `Request`, which knows every form. There is no peer: the call is in process.
 */
export function toGatewayRequest(input: string | URL | Request, init: RequestInit | undefined, signal: AbortSignal): GatewayRequest {
  if (!(input instanceof Request) && (init?.body === undefined || init.body === null || typeof init.body === 'string')) {
    const text = typeof init?.body === 'string' ? init.body : '';
    const body: StreamedBody = {
      type: 'stream',
      read: (limit) => (Buffer.byteLength(text) > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(text)),
      stream: () => bytesOf(text),
    };
    return { method: (init?.method ?? 'GET').toUpperCase(), ...pathOf(new URL(input)), headers: headerRecord(new Headers(init?.headers)), body, signal };
  }
  const request = new Request(input, init);
  const body: StreamedBody = { type: 'stream', read: (limit) => readLimited(request, limit), stream: () => request.body ?? emptyStream() };
  return { method: request.method, ...pathOf(new URL(request.url)), headers: headerRecord(request.headers), body, signal };
}

function pathOf(url: URL): { path: string; search: string } {
  return { path: url.pathname, search: url.search.slice(1) };
}

/** Header names are already lower case in a `Headers`; repeated values already joined. */
function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => (record[name] = value));
  return record;
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
    let next: Awaited<ReturnType<typeof reader.read>>;
    try {
      next = await reader.read();
    } catch (error) {
      // The only way a request body fails to arrive is its caller giving up (its signal, a broken source).
      throw new DetourError({ kind: 'fatal', code: 'CLIENT_CLOSED', status: 499, message: 'the caller stopped sending its request', cause: error });
    }
    if (next.done) break;
    size += next.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

async function* emptyStream(): AsyncGenerator<Uint8Array> {
  // No body: nothing to yield.
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  if (text !== '') yield Buffer.from(text);
}
