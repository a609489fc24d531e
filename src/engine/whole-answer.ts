import { brotliDecompress, gunzip, inflate, type ZlibOptions } from 'node:zlib';
import { errors, util, type Dispatcher } from 'undici';
import type { AbortSource } from '../core/abort-source.js';
import { badResponse, contentCodings, decoders } from './upstream-body.js';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A non-streaming upstream answer read whole: its body decoded and within the byte limit. */
export interface WholeAnswer {
  statusCode: number;
  headers: ResponseHeaders;
  body: Buffer;
}

/** Hears the status and headers as soon as they arrive, before the body. */
export type OnAnswerHead = (statusCode: number, headers: ResponseHeaders) => void;

type Decode = (buffer: Buffer, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void;

/** The one-shot decoders of each coding `decodedBody` can stream-decode. */
const wholeDecoders: Readonly<Record<string, Decode>> = { gzip: gunzip, 'x-gzip': gunzip, deflate: inflate, br: brotliDecompress };

/**
 * Reads one non-streaming answer straight off undici's dispatch: the bytes go into one list as
 * undici parses them, with no `Readable` for the body, no `finished` and no async resource per
 * request, which is what undici's `request()` builds for a body read in one go anyway.
 *
 * The byte limit (`server.max_upstream_body_bytes`) holds for the bytes as sent and again for
 * them decoded: a compressed answer is collected as sent (refused past the limit: it could only
 * decode larger, give or take a few bytes of framing) and decoded once it is whole, each coding
 * with zlib's `maxOutputLength`. An abort of `signal` aborts the call with its reason, at any
 * point, as it would a `request()`.
 */
export class WholeAnswerReader implements Dispatcher.DispatchHandler {
  readonly answer: Promise<WholeAnswer>;
  private resolve!: (answer: WholeAnswer) => void;
  private reject!: (error: unknown) => void;
  private abortCall: ((reason?: Error) => void) | undefined;
  private statusCode = 0;
  private headers: ResponseHeaders = {};
  private codings: string[] = [];
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private isSettled = false;

  constructor(
    private readonly signal: AbortSource,
    private readonly limit: number,
    private readonly target: string,
    private readonly onHead: OnAnswerHead,
  ) {
    this.answer = new Promise<WholeAnswer>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  private readonly onAbort = (): void => {
    this.abortCall?.(asError(this.signal.reason));
  };

  onConnect(abort: (reason?: Error) => void): void {
    if (this.signal.aborted) {
      abort(asError(this.signal.reason));
      return;
    }
    this.abortCall = abort;
    // Added once per dispatch: undici calls `onConnect` again only when it retries a request it never sent.
    this.signal.removeEventListener('abort', this.onAbort);
    this.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // An informational answer (100 Continue, 103 Early Hints) is followed by the real one.
    if (statusCode < 200) return true;
    this.statusCode = statusCode;
    this.headers = util.parseHeaders(rawHeaders);
    try {
      this.codings = contentCodings(this.headers['content-encoding']);
      const unknown = this.codings.find((coding) => !decoders[coding]);
      if (unknown !== undefined) throw badResponse(this.target, `answered with content-encoding "${unknown.slice(0, 40)}", which Detour cannot decode`);
      this.onHead(statusCode, this.headers);
    } catch (error) {
      this.refuse(error);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.isSettled) return true;
    this.size += chunk.length;
    if (this.size > this.limit) this.refuse(tooLarge(this.target, this.limit));
    else this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.isSettled) return;
    this.stopListening();
    const { chunks, size } = this;
    const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
    if (this.codings.length === 0) return this.settle(raw);
    // Codings are listed in the order they were applied: undo them from the last.
    decodeAll(raw, [...this.codings].reverse(), this.limit, this.target).then(
      (body) => this.settle(body),
      (error: unknown) => this.fail(error),
    );
  }

  onError(error: Error): void {
    this.stopListening();
    this.fail(error);
  }

  private settle(body: Buffer): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body });
  }

  private fail(error: unknown): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.reject(error);
  }

  /** Ends the call with a reason of ours: undici closes the connection, and its `onError` comes after. */
  private refuse(error: unknown): void {
    this.fail(error);
    this.stopListening();
    this.abortCall?.(asError(error));
  }

  private stopListening(): void {
    this.signal.removeEventListener('abort', this.onAbort);
  }
}

function decodeAll(raw: Buffer, codings: readonly string[], limit: number, target: string): Promise<Buffer> {
  let decoded = Promise.resolve(raw);
  for (const coding of codings) {
    const decode = wholeDecoders[coding] as Decode;
    decoded = decoded.then(
      (input) =>
        new Promise<Buffer>((resolve, reject) =>
          decode(input, { maxOutputLength: limit }, (error, output) => {
            if (!error) return resolve(output);
            // zlib stops at `maxOutputLength` with a RangeError of its own.
            if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return reject(tooLarge(target, limit));
            reject(badResponse(target, `sent a body that does not decode as ${codings.join(', ')}`, error));
          }),
        ),
    );
  }
  return decoded;
}

function tooLarge(target: string, limit: number): Error {
  return badResponse(target, `sent a body larger than server.max_upstream_body_bytes (${limit} bytes)`);
}

/** undici aborts with an Error: a reason that is none (an abort without one) becomes its own `RequestAbortedError`. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new errors.RequestAbortedError();
}
