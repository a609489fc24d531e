import type { StateChange } from './state-store.js';

/** A store's change listeners, each isolated from the others and from the store. */
export class ChangeListeners {
  private readonly listeners = new Set<(change: StateChange) => void>();

  add(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(change: StateChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // A broken listener must not fail the transition that others are waiting on.
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
