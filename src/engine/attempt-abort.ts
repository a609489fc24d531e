import type { AbortSource } from './upstream-http.js';

/**
 * One attempt's abort, in the shape undici takes for a signal (`aborted`, `reason`, abort
 * listeners). An `AbortController` would serve too, but it builds an EventTarget for every
 * attempt, and its listeners cost more to add and remove than the attempt needs: undici adds
 * one and takes it off again when the call is over.
 */
export class AttemptAbort implements AbortSource {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    // As on an AbortSignal: a listener added after the abort is never called.
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.listeners;
    if (!listeners) return;
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (!listeners) return;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        // An AbortSignal reports a listener's exception as uncaught without stopping the others; so does this.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * Lets the walk call off an attempt of its own accord (the losing side of a hedge) without a
 * second signal joined to the client's (`AbortSignal.any` per attempt).
 */
export class AttemptCancel {
  private isCancelled = false;
  private onCancel: (() => void) | undefined;

  /** Called by the attempt once it runs; at once if it was already called off. */
  attach(onCancel: () => void): void {
    if (this.isCancelled) onCancel();
    else this.onCancel = onCancel;
  }

  cancel(): void {
    if (this.isCancelled) return;
    this.isCancelled = true;
    const onCancel = this.onCancel;
    this.onCancel = undefined;
    onCancel?.();
  }
}
