/**
 * The abort signal of one in-process call: it fires when the caller's signal does, or when
 * the library itself gives up on the answer (a stream cancelled or left early). The engine
 * stops the upstream read the moment it fires, just as the server does when a socket closes.
 */
export class CallAbort {
  private readonly controller = new AbortController();
  private readonly onParentAbort = (): void => this.controller.abort(this.parent?.reason);

  constructor(private readonly parent: AbortSignal | undefined) {
    if (!parent) return;
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether the caller (not the library) aborted: the call must then reject with the caller's reason. */
  get isAbortedByCaller(): boolean {
    return this.parent?.aborted === true;
  }

  /** What a call aborted by the caller rejects with: the caller's reason, as `fetch` does. */
  callerReason(): unknown {
    return this.parent?.reason ?? new DOMException('This operation was aborted', 'AbortError');
  }

  abort(): void {
    this.controller.abort();
  }

  /** Stops listening to the caller's signal once the call is over, so a long-lived signal does not collect listeners. */
  release(): void {
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}
