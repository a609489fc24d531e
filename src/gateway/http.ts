import type { VirtualKey } from '../auth/virtual-key.js';
import type { ServedMeta } from '../engine/result.js';
import type { AbortSource } from '../core/abort-source.js';

/**
 * The request and response the gateway core speaks, free of any transport: `server/` fills them
 * from node:http, `library/` from a `fetch` call or an in-process method. Shaped after the Fetch
 * API's, minus what costs: headers stay the plain record node:http already has, and the body is
 * read only by the handler that needs it.
 */
export interface GatewayRequest {
  /** Upper case, as sent. */
  readonly method: string;
  /** The URL's path, without the query. */
  readonly path: string;
  /** The URL's query string, without the `?` (empty when there is none). */
  readonly search: string;
  /** Header names in lower case; a repeated header as an array (node:http's shape). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: RequestBody;
  /** Aborted when the client goes away (a socket closed, a caller's signal). */
  readonly signal: AbortSource;
  /** The network peer, when there is one; an in-process call has none. */
  readonly peer?: Peer | undefined;
}

export interface Peer {
  address: string;
  /** Reached over TLS (a Secure cookie then makes sense). */
  isEncrypted: boolean;
}

/**
 * A request body: a byte stream from a transport, or a value an in-process caller already
 * holds (no JSON round trip for it).
 */
export type RequestBody = StreamedBody | ParsedBody;

export interface StreamedBody {
  readonly type: 'stream';
  /**
   * The whole body, refused with 413 `BODY_TOO_LARGE` past `limit` bytes as soon as that is known
   * (declared length, or while reading) without buffering the rest; `CLIENT_CLOSED` when the
   * client leaves mid-upload.
   */
  read(limit: number): Promise<Buffer | string>;
  /**
   * The body as it arrives, for a handler that pipes it on rather than reading it whole (it then
   * bounds the size itself). A handler uses `read` or `stream`, not both.
   */
  stream(): AsyncIterable<Uint8Array>;
}

export interface ParsedBody {
  readonly type: 'parsed';
  /** A JSON-shaped value (what `JSON.parse` of the wire body would have given). */
  readonly value: unknown;
  /**
   * Present when the value came from a wire body that an endpoint read and reshaped before
   * handing it on (Gemini's moves the path's model into it): its size, and the key that endpoint
   * already checked. Absent for an in-process caller's own value.
   */
  readonly wire?: { readonly bodyBytes: number; readonly identity: { key: VirtualKey } | undefined } | undefined;
}

/** A response body: whole, or a stream of text pieces pulled by the transport with backpressure. */
export type ResponseBody = string | Uint8Array | ResponseStream | undefined;

/**
 * A streamed body: `head` is written at once, `rest` pulled piece by piece. The transport calls
 * `rest.return()` when it stops early (client gone), which stops whatever feeds the stream.
 */
export interface ResponseStream {
  readonly type: 'stream';
  readonly head: string;
  readonly rest: AsyncGenerator<string, void, undefined>;
}

export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: ResponseBody;
  /** Who served a chat request, for an in-process caller (the `x-detour-*` headers in full). */
  served?: ServedMeta | undefined;
  /** Detour's error code for a refused request, for an in-process caller. */
  errorCode?: string | undefined;
  /** The client left before an answer existed: there is no one to write to. */
  isClientGone?: boolean | undefined;
}

/** What the core stamps on every request before its handler runs. */
export interface RequestContext {
  /** When the request arrived, from the gateway's one clock (epoch ms). */
  readonly receivedAt: number;
  /** Path parameters of a pattern route (`/v1beta/models/:model`). */
  readonly params: Readonly<Record<string, string>>;
  /** The route's path as declared (`/v1beta/models/:action`): refusals are counted under it. */
  readonly pattern?: string | undefined;
}

export type Handler = (request: GatewayRequest, context: RequestContext) => Promise<GatewayResponse> | GatewayResponse;

/** One header's value as a string (a repeated header joined as HTTP does). */
export function headerOf(request: GatewayRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function queryOf(request: GatewayRequest): URLSearchParams {
  return new URLSearchParams(request.search);
}

export function jsonResponse(status: number, body: string | Uint8Array, headers: Record<string, string> = {}): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body };
}

export function isResponseStream(body: ResponseBody): body is ResponseStream {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array);
}

/** A whole body as text, read in place (a `Uint8Array` is not copied first). */
export function wholeBodyText(body: string | Uint8Array | undefined): string {
  if (body === undefined) return '';
  return typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}
