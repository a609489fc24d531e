import type { ResponseStream } from '../gateway/http.js';
import type { CallAbort } from './call-abort.js';

/**
 * A stream answer as a `Response` body: pulled event by event, so a slow reader holds the
 * upstream back as the server's socket does. Cancelling the body stops the upstream read; an
 * abort from the caller's signal errors the body with the signal's reason, as `fetch` does.
 */
export function toResponseBody(result: ResponseStream, abort: CallAbort, callerSignal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let isHeadSent = false;
  let isOver = false;
  const stop = async (): Promise<void> => {
    if (isOver) return;
    isOver = true;
    callerSignal?.removeEventListener('abort', onCallerAbort);
    abort.abort();
    await result.rest.return(undefined);
    abort.release();
  };
  let onCallerAbort = (): void => undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onCallerAbort = () => {
        controller.error(abort.callerReason());
        void stop();
      };
      if (callerSignal?.aborted) onCallerAbort();
      else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    },
    async pull(controller) {
      if (!isHeadSent) {
        isHeadSent = true;
        controller.enqueue(encoder.encode(result.head));
        return;
      }
      // An empty piece is skipped rather than enqueued: pull must hand the waiting reader something real.
      for (;;) {
        const next = await result.rest.next();
        // The caller aborted while this read waited: the body has already been errored.
        if (isOver) return;
        if (next.done) {
          isOver = true;
          callerSignal?.removeEventListener('abort', onCallerAbort);
          abort.release();
          controller.close();
          return;
        }
        if (next.value === '') continue;
        controller.enqueue(encoder.encode(next.value));
        return;
      }
    },
    cancel: stop,
  });
}
