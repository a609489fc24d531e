import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { isPastLimit, isSlowSuccess, slowCalls, slowLimitMs, type CallWait, type SlowCallSettings } from '../core/slow-calls.js';
import type { TargetStats } from '../core/target-stats.js';

/** A call in flight that the watch may judge and move on. */
export interface WatchedCall {
  /** What it waits for now, or undefined when it waits for nothing the watch judges (its body is being read). */
  wait(now: number): CallWait | undefined;
  /** Whether moving it on from this wait helps: another target can take it (or its stream's continuation). */
  canMoveOn(wait: CallWait): boolean;
  /** Ends its wait as a timeout of its kind, saying why. */
  cut(wait: CallWait, limitMs: number, others: number): void;
}

export interface SlowCallWatchOptions {
  clock: Clock;
  timers: Timers;
  settingsFor(targetId: string): SlowCallSettings;
  statsOf(targetId: string): TargetStats;
  /** Calls of this target were slow and these moved on (their waits, and the limit of each): its circuit should open. */
  onSlow(targetId: string, moved: ReadonlyArray<{ wait: CallWait; limitMs: number }>): void;
  /** The other keys of a target's provider and model, whose slow calls move with its verdict (none by default). */
  siblingsOf?: ((targetId: string) => readonly string[]) | undefined;
  /** How often the calls in flight are looked at (default 250 ms). */
  intervalMs?: number | undefined;
}

function waitsOf(set: ReadonlySet<WatchedCall>, now: number): { calls: WatchedCall[]; waits: CallWait[] } {
  const calls: WatchedCall[] = [];
  const waits: CallWait[] = [];
  for (const call of set) {
    const wait = call.wait(now);
    if (!wait) continue;
    calls.push(call);
    waits.push(wait);
  }
  return { calls, waits };
}

/**
 * Watches the calls in flight of every target for slowness (`core/slow-calls.ts`): one timer for
 * the whole engine, armed only while calls are in flight, looks at each target with enough of
 * them. A call costs a set insertion and removal; nothing runs per event of a stream.
 */
export class SlowCallWatch {
  private readonly calls = new Map<string, Set<WatchedCall>>();
  /**
   * Calls that were waiting on a target for their answer or first token when it was judged slow,
   * but not yet past their own limits (they started a little later): the wait they were in, and
   * how many moved at the verdict. Each moves on if that same wait passes its limit: the verdict
   * is made, and once the others have moved there are too few left to make it again, so without
   * this the last of them waited out the whole slowness. A stream that was flowing is not marked,
   * and a mark ends with its wait (the answer or first token came): a later pause is judged anew.
   */
  private readonly condemned = new WeakMap<WatchedCall, { kind: CallWait['kind']; others: number }>();
  private timer: TimerHandle | undefined;
  private readonly intervalMs: number;

  constructor(private readonly options: SlowCallWatchOptions) {
    this.intervalMs = options.intervalMs ?? 250;
  }

  /** Watches `call` until the returned function is called. */
  add(targetId: string, call: WatchedCall): () => void {
    let set = this.calls.get(targetId);
    if (!set) {
      set = new Set();
      this.calls.set(targetId, set);
    }
    set.add(call);
    this.timer ??= this.options.timers.setTimeout(this.sweep, this.intervalMs);
    const watched = set;
    return () => {
      watched.delete(call);
      if (watched.size === 0 && this.calls.get(targetId) === watched) this.calls.delete(targetId);
    };
  }

  /** Whether a call of this target that finished after `durationMs` was slow (a probe's verdict). */
  isSlowSuccess(targetId: string, kind: CallWait['kind'], durationMs: number): boolean {
    return isSlowSuccess(this.options.statsOf(targetId), kind, durationMs, this.options.settingsFor(targetId));
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = this.options.clock.now();
    const tripped: string[] = [];
    for (const [targetId, set] of this.calls) {
      const settings = this.options.settingsFor(targetId);
      if (settings.minCalls <= 0) continue;
      this.moveCondemned(targetId, set, now, settings);
      if (set.size < settings.minCalls) continue;
      const { calls, waits } = waitsOf(set, now);
      const slow = slowCalls(this.options.statsOf(targetId), waits, settings);
      if (slow.some((index) => (calls[index] as WatchedCall).canMoveOn(waits[index] as CallWait))) tripped.push(targetId);
    }
    const moved = new Set<string>();
    for (const targetId of tripped) {
      // A provider's keys of one model share its latency: their calls past their own limits move too, however few.
      for (const id of [targetId, ...(this.options.siblingsOf?.(targetId) ?? [])]) {
        if (moved.has(id)) continue;
        moved.add(id);
        this.moveSlowCalls(id, now, id === targetId);
      }
    }
    if (this.calls.size > 0) this.timer = this.options.timers.setTimeout(this.sweep, this.intervalMs);
  };

  /** Moves on the calls of `targetId` past their limits: as many as `minCalls` needed, unless the verdict is a sibling's. */
  private moveSlowCalls(targetId: string, now: number, isJudged: boolean): void {
    const set = this.calls.get(targetId);
    if (!set) return;
    const base = this.options.settingsFor(targetId);
    const settings = isJudged ? base : { ...base, minCalls: 1 };
    const stats = this.options.statsOf(targetId);
    const { calls, waits } = waitsOf(set, now);
    const slow = slowCalls(stats, waits, settings).filter((index) => (calls[index] as WatchedCall).canMoveOn(waits[index] as CallWait));
    if (slow.length === 0) return;
    const moved = slow.map((index) => ({ call: calls[index] as WatchedCall, wait: waits[index] as CallWait, limitMs: slowLimitMs(stats, (waits[index] as CallWait).kind, settings) ?? 0 }));
    // The circuit opens before the calls move, so that none of them moves onto this target (or its sibling keys) again.
    this.options.onSlow(targetId, moved);
    for (const entry of moved) entry.call.cut(entry.wait, entry.limitMs, moved.length - 1);
    const movedCalls = new Set(moved.map((entry) => entry.call));
    for (const call of set) {
      if (this.condemned.has(call) || movedCalls.has(call)) continue;
      const wait = call.wait(now);
      if (wait && wait.kind !== 'next_event') this.condemned.set(call, { kind: wait.kind, others: moved.length });
    }
  }

  /**
   * Moves on the calls left waiting by a verdict on this target, each if the wait it was in then
   * passes its limit (a mark whose wait has ended is let go). They are reported like the
   * verdict's own (counted, and the circuit opened should it have closed meanwhile), with how
   * many moved at the verdict as the others.
   */
  private moveCondemned(targetId: string, set: ReadonlySet<WatchedCall>, now: number, settings: SlowCallSettings): void {
    let stats: TargetStats | undefined;
    const moved: Array<{ call: WatchedCall; wait: CallWait; limitMs: number; others: number }> = [];
    for (const call of set) {
      const mark = this.condemned.get(call);
      if (mark === undefined) continue;
      const wait = call.wait(now);
      if (!wait || wait.kind !== mark.kind) {
        this.condemned.delete(call);
        continue;
      }
      stats ??= this.options.statsOf(targetId);
      const limitMs = slowLimitMs(stats, wait.kind, settings);
      if (!isPastLimit(wait, limitMs) || !call.canMoveOn(wait)) continue;
      this.condemned.delete(call);
      moved.push({ call, wait, limitMs, others: mark.others });
    }
    if (moved.length === 0) return;
    this.options.onSlow(targetId, moved);
    for (const entry of moved) entry.call.cut(entry.wait, entry.limitMs, entry.others);
  }

  dispose(): void {
    this.timer?.clear();
    this.timer = undefined;
    this.calls.clear();
  }
}
