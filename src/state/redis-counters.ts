import type { Clock } from '../core/clock.js';
import { bucketLengthMs, type WindowSpec } from '../core/sliding-window.js';
import type { MemoryStateSpace, MemoryStateStore } from './memory-store.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisKeyspace } from './redis-keyspace.js';
import type { RedisLink } from './redis-link.js';
import { scripts } from './redis-scripts.js';

export interface RedisCountersOptions {
  client: RedisClient;
  keyspace: RedisKeyspace;
  link: RedisLink;
  clock: Clock;
  /** Where counts go while Redis is away, and `space` its state, replayed into Redis afterwards. */
  local: MemoryStateStore;
  space: MemoryStateSpace;
}

/** Spare life for a counter key past its window, so that a clock a little ahead never loses a live bucket. */
const collectionSlackMs = 1_000;

/**
 * Shared sliding-window counters (the future per-key rate limits and budgets) over Redis, with
 * the same bucket arithmetic as `core/sliding-window.ts` in a script. While Redis is away, counts
 * go to a local window; once it is back, each local bucket is added to the same bucket in Redis,
 * so the cluster's totals include what was counted alone (a bucket already out of the window is
 * dropped, as it would have been). An addition whose command timed out may still reach a slow
 * Redis after it was counted locally: counts err upwards by what was in flight at the timeout,
 * which for limits and budgets is the safe side.
 */
export class RedisCounters {
  /** The window of every counter counted locally, needed to replay it. */
  private readonly localSpecs = new Map<string, WindowSpec>();

  constructor(private readonly options: RedisCountersOptions) {}

  async add(name: string, amount: number, window: WindowSpec, at?: number): Promise<number> {
    if (!this.options.link.isUsable) return this.addLocally(name, amount, window, at);
    try {
      return await this.run(name, window, amount, at ?? this.options.clock.now(), at === undefined);
    } catch (error) {
      this.options.link.fail(error);
      return this.addLocally(name, amount, window, at);
    }
  }

  async read(name: string, window: WindowSpec): Promise<number> {
    if (!this.options.link.isUsable) return this.options.local.readCounter(name, window);
    try {
      return await this.run(name, window, 0, this.options.clock.now(), true);
    } catch (error) {
      this.options.link.fail(error);
      return this.options.local.readCounter(name, window);
    }
  }

  /** Adds what was counted locally into Redis, bucket by bucket; a bucket leaves the local window once it is in Redis, so none is added twice. */
  async replay(): Promise<void> {
    for (const [name, window] of [...this.localSpecs]) {
      for (;;) {
        const bucket = this.options.space.counters.get(name)?.[0];
        if (bucket === undefined) break;
        await this.run(name, window, bucket.count, bucket.start, false);
        const rest = this.options.space.counters.get(name)?.slice(1) ?? [];
        if (rest.length === 0) this.options.space.counters.delete(name);
        else this.options.space.counters.set(name, rest);
      }
      this.localSpecs.delete(name);
    }
  }

  private async addLocally(name: string, amount: number, window: WindowSpec, at?: number): Promise<number> {
    this.localSpecs.set(name, window);
    return this.options.local.addToCounter(name, amount, window, at);
  }

  /** Runs the counter script: `at` is now when counting, a local bucket's start when replaying. */
  private async run(name: string, window: WindowSpec, amount: number, at: number, isNow: boolean): Promise<number> {
    const bucketMs = bucketLengthMs(window);
    const start = Math.floor(at / bucketMs) * bucketMs;
    const args = [String(this.options.clock.now()), String(window.windowMs), String(bucketMs), String(amount), String(start), String(window.windowMs + bucketMs + collectionSlackMs), isNow ? '1' : '0'];
    const reply = await scripts.counter.run(this.options.client, [this.options.keyspace.counter(name)], args);
    const total = typeof reply === 'string' || typeof reply === 'number' ? Number(reply) : Number.NaN;
    if (!Number.isFinite(total)) throw new Error(`unexpected counter reply: ${String(reply)}`);
    return total;
  }
}
