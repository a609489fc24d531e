import type { BodyResult, EngineResult, ServedMeta, StreamPiece, StreamResult } from '../engine/result.js';
import { countUpstreamCalls } from '../engine/result.js';
import type { IngressCodec, StreamEncoder } from '../providers/types.js';
import { encodeEmbeddingsResponse } from '../providers/embeddings/index.js';
import { markLastDataEvent, primeEncoder } from './continued-stream.js';
import type { GatewayResponse } from './http.js';

/** The `x-detour-*` headers: who served the request, after how many upstream calls. */
export function servedHeaders(meta: ServedMeta): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': meta.requestId,
    'x-detour-route': meta.route,
    'x-detour-attempts': String(countUpstreamCalls(meta.attempts)),
    'x-detour-failover': meta.isFailover ? 'true' : 'false',
    'x-detour-degraded': meta.isDegraded ? 'true' : 'false',
  };
  if (meta.target) {
    headers['x-detour-provider'] = meta.target.provider.name;
    headers['x-detour-model'] = meta.target.model;
    headers['x-detour-target'] = meta.target.id;
    if (meta.target.region !== undefined) headers['x-detour-region'] = meta.target.region;
  }
  return headers;
}

/**
 * An engine result as the gateway's response, encoded in the client's format: the one place where
 * a client's codec writes an answer. A passed-through body or stream is written as it came; a
 * translated one, and Detour's own errors, are encoded here.
 */
export function encodeResult(result: EngineResult, codec: IngressCodec, wantsUsage: boolean): GatewayResponse {
  const headers = servedHeaders(result.meta);
  if (result.type === 'body') {
    headers['content-type'] = 'application/json';
    for (const name in result.headers) headers[name] = result.headers[name] as string;
    return { status: result.status, headers, body: encodeBody(result.content, codec), served: result.meta };
  }
  headers['content-type'] = codec.streamContentType;
  headers['cache-control'] = 'no-cache';
  headers['x-accel-buffering'] = 'no';
  const stream = new StreamEncoding(result, codec, wantsUsage);
  return { status: result.status, headers, body: { type: 'stream', head: stream.encode(result.head), rest: stream.rest() }, served: result.meta };
}

function encodeBody(content: BodyResult['content'], codec: IngressCodec): string | Buffer {
  if (content.kind === 'raw') return content.bytes;
  if (content.kind === 'canonical') return codec.encodeResponse(content.response);
  // Embeddings are OpenAI's shape whatever the client's codec: only `/v1/embeddings` asks for them.
  if (content.kind === 'embeddings') return encodeEmbeddingsResponse(content.answer);
  return codec.encodeError(content.error);
}

/** One stream's pieces as the client's text; the encoder exists only once something needs translating. */
class StreamEncoding {
  private encoder: StreamEncoder | undefined;
  /** The engine continued the stream on another target: from then on it is translated, whatever it was before. */
  private isContinued = false;
  /** Whether any text has gone to the client yet. */
  private hasWritten = false;
  /** The last text passed through untranslated, for an encoder that must take over where it stands. */
  private lastPassedThrough = '';

  constructor(
    private readonly result: StreamResult,
    private readonly codec: IngressCodec,
    private readonly wantsUsage: boolean,
  ) {}

  encode(piece: StreamPiece): string {
    let text = piece.comment ?? '';
    if (piece.prime !== undefined) {
      // A passed-through stream had no encoder: a fresh one starts where the client's stream stands,
      // or, when the client has nothing yet (a tool call was held back), writes the message's opening.
      if (!this.encoder) {
        const encoder = this.streamEncoder();
        const primed = primeEncoder(encoder, piece.prime);
        if (!this.hasWritten) text += primed;
        // Priming numbered the events it wrote (thrown away) and opened its own message: back to where the client stands.
        else if (this.lastPassedThrough !== '') encoder.resumeAfter?.(this.lastPassedThrough);
      }
      this.isContinued = true;
    }
    text += piece.text;
    if (!this.encoder && piece.text !== '') this.lastPassedThrough = piece.text;
    for (const chunk of piece.chunks) text += this.streamEncoder().encode(chunk);
    if (piece.isEnd) text += this.result.isPassThrough && !this.isContinued ? this.codec.streamEndMarker : this.streamEncoder().end();
    if (piece.failure) text += this.streamEncoder().error(piece.failure);
    if (piece.mark) text = markLastDataEvent(text, piece.mark);
    if (text !== '' && text !== piece.comment) this.hasWritten = true;
    this.result.captured?.push(text);
    return text;
  }

  /**
   * The rest as text. A plain iterator rather than a generator: its `return()` must reach the
   * engine's stream even when it was never pulled (a client gone right after the head), which
   * an unstarted generator's `finally` would not.
   */
  rest(): AsyncGenerator<string, void, undefined> {
    const rest = this.result.rest;
    const done: IteratorReturnResult<void> = { done: true, value: undefined };
    const iterator: AsyncGenerator<string, void, undefined> = {
      next: async () => {
        const next = await rest.next();
        return next.done ? done : { done: false, value: this.encode(next.value) };
      },
      return: async () => {
        await rest.return(undefined);
        return done;
      },
      throw: async (error: unknown) => {
        await rest.return(undefined);
        throw error;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  private streamEncoder(): StreamEncoder {
    if (this.encoder) return this.encoder;
    this.encoder = this.codec.createStreamEncoder({ wantsUsage: this.wantsUsage, route: this.result.meta.route });
    // A passed-through stream that fails: its error event follows what the client already has.
    if (this.lastPassedThrough !== '') this.encoder.resumeAfter?.(this.lastPassedThrough);
    return this.encoder;
  }
}
