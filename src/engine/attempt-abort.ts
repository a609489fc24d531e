import { LightAbort } from '../core/abort-source.js';

/**
 * One attempt's abort, in the shape undici takes for a signal (`aborted`, `reason`, abort
 * listeners): undici adds one listener and takes it off again when the call is over, which an
 * `AbortController`'s EventTarget makes cost more than the attempt needs.
 */
export class AttemptAbort extends LightAbort {}

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
