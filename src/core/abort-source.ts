/**
 * What Detour listens to for an abort: an `AbortSignal`, or anything with its shape (undici takes
 * either for a request). Only `aborted`, `reason` and abort listeners are ever used.
 */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * An abort in an `AbortSignal`'s shape without its EventTarget: an `AbortController` builds one
 * per use, and its listeners cost more to add and remove than a request or an attempt needs
 * (each attempt listens to its client, undici to its attempt). A listener is called once, as
 * with `{ once: true }`: the list is dropped at the abort.
 */
export class LightAbort implements AbortSource {
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

  abort(reason?: unknown): void {
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
 * A real `AbortSignal` following `source`, for an API that needs one (`AbortSignal.any`):
 * the source itself when it is one, else a signal made for it, aborted with the same reason.
 */
export function abortSignalOf(source: AbortSource): AbortSignal {
  if (source instanceof AbortSignal) return source;
  const controller = new AbortController();
  if (source.aborted) controller.abort(source.reason);
  else source.addEventListener('abort', () => controller.abort(source.reason), { once: true });
  return controller.signal;
}
