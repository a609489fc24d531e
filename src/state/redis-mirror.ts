/** One target's state as this instance holds it, with the Redis version it was read or written at. */
export interface MirrorEntry<S> {
  readonly state: S;
  /** `state` as JSON text, exactly as stored, so that equality is a string comparison. */
  readonly json: string;
  /** The version in Redis this copy matches; 0 for a key never seen there. */
  readonly version: number;
  /**
   * Decided by this instance while Redis was away and not written there yet: reconciliation
   * settles it with Redis by `mergeRules`, and a newer version heard meanwhile does not simply
   * replace it, since the version orders Redis's writes, not this instance's own decisions.
   */
  readonly isUnsynced?: boolean | undefined;
}

/**
 * This instance's copy of one kind of shared state (breakers, or health), by target: what the
 * synchronous views read. Three sources write it — this instance's own writes to Redis, the
 * changes it hears on the channel, and its own decisions while Redis is away — and versions
 * keep them in order: the channel and a write's reply race, and a late message must not undo a
 * newer state.
 */
export class VersionedMirror<S> {
  private readonly entries = new Map<string, MirrorEntry<S>>();
  private readonly initialEntry: MirrorEntry<S>;

  constructor(initial: S) {
    this.initialEntry = { state: initial, json: JSON.stringify(initial), version: 0 };
  }

  view(targetId: string): S {
    return this.entry(targetId).state;
  }

  entry(targetId: string): MirrorEntry<S> {
    return this.entries.get(targetId) ?? this.initialEntry;
  }

  targetIds(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Takes what Redis says `targetId` is at `version`, if that is newer than this copy. Resolves
   * with the state the view showed before when the view changed, undefined otherwise.
   */
  offer(targetId: string, entry: MirrorEntry<S>): { previous: S } | undefined {
    const current = this.entry(targetId);
    if (entry.version <= current.version) return undefined;
    this.entries.set(targetId, entry);
    return entry.json === current.json ? undefined : { previous: current.state };
  }

  /** Records a state this instance decided: written to Redis at `entry.version`, or kept locally at the last version it knew. */
  put(targetId: string, entry: MirrorEntry<S>): void {
    this.entries.set(targetId, entry);
  }
}
