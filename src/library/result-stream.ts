import type { ResponseStream } from '../gateway/http.js';
import { SseParser } from '../providers/shared/sse.js';
import type { CallAbort } from './call-abort.js';
import { clientFormats, type ClientFormat, type StreamStep } from './client-formats.js';
import { GatewayError } from './gateway-error.js';
import type { ServedInfo } from './served.js';

/**
 * A streamed answer in the client's format, as parsed events. Iterate it once; leaving the loop
 * early (`break`, `return`, a throw) or calling `cancel()` stops the upstream read. A failure
 * after the stream had started is thrown as a `GatewayError` (code `STREAM_INTERRUPTED` or a
 * timeout), never a silent end: the events read so far are an incomplete answer. A stream
 * neither read to its end nor cancelled holds its upstream call open until the route's idle timeout.
 */
export interface ResultStream<Event> extends AsyncIterable<Event> {
  /** Who serves the stream: known once its first event has arrived, which is when the stream is handed over. */
  readonly served: ServedInfo;
  /** Stops the stream and the upstream call behind it; safe to call more than once. */
  cancel(): Promise<void>;
}

/** Reads the engine's stream text back into events of the client's format. */
export class EngineResultStream<Event> implements ResultStream<Event> {
  readonly served: ServedInfo;
  private readonly parser = new SseParser();
  private isStarted = false;
  private isFinished = false;

  constructor(
    private readonly format: ClientFormat,
    private readonly result: ResponseStream,
    served: ServedInfo,
    private readonly abort: CallAbort,
  ) {
    this.served = served;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Event, void, undefined> {
    if (this.isStarted) throw new Error('a Detour stream can be iterated only once');
    this.isStarted = true;
    try {
      yield* this.events(this.result.head);
      for await (const text of this.result.rest) {
        if (this.isFinished) return;
        yield* this.events(text);
      }
      yield* this.steps(this.parser.flush().map((event) => clientFormats[this.format].readStreamEvent(event)));
      this.isFinished = true;
      this.abort.release();
    } finally {
      await this.cancel();
    }
  }

  async cancel(): Promise<void> {
    if (this.isFinished) return;
    this.isFinished = true;
    // Aborting first ends a read that waits on a silent upstream at once; `return()` alone would wait for it.
    this.abort.abort();
    await this.result.rest.return(undefined);
    this.abort.release();
  }

  private *events(text: string): Generator<Event, void, undefined> {
    yield* this.steps(this.parser.feed(text).map((event) => clientFormats[this.format].readStreamEvent(event)));
  }

  private *steps(steps: readonly StreamStep[]): Generator<Event, void, undefined> {
    for (const step of steps) {
      if (step.type === 'skip') continue;
      if (step.type === 'chunk') {
        yield step.value as Event;
        continue;
      }
      // A stream ended because the caller aborted rejects with the caller's reason, as fetch's body does.
      if (this.abort.isAbortedByCaller) throw this.abort.callerReason();
      if (this.isFinished) return;
      throw this.streamError(step);
    }
  }

  private streamError(step: Extract<StreamStep, { type: 'error' | 'unreadable' }>): GatewayError {
    if (step.type === 'unreadable') {
      return new GatewayError({ status: 502, code: 'UPSTREAM_BAD_RESPONSE', message: `unreadable stream event: ${step.data.slice(0, 200)}`, body: step.data, served: this.served });
    }
    const { code, message } = clientFormats[this.format].readError(step.body);
    // The engine reports every failure after the first event as a 502-class stream error.
    return new GatewayError({ status: 502, code, message, body: step.body, served: this.served });
  }
}
