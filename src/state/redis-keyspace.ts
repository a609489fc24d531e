import type { SharedKind } from './redis-codec.js';

/**
 * The names the Redis store uses, all under one prefix so that several clusters (staging and
 * production, say) can share a server. Each key is touched alone by a single-key script, so no
 * hash tags are needed on Redis Cluster.
 */
export class RedisKeyspace {
  /** The one pub/sub channel every change is announced on. */
  readonly channel: string;

  constructor(readonly prefix: string) {
    this.channel = `${prefix}changes`;
  }

  /** A target's breaker or health: a hash `{v: version, s: state JSON}`. */
  state(kind: SharedKind, targetId: string): string {
    return `${this.prefix}${kind}:${targetId}`;
  }

  /** A lease: a hash `{h: holder, e: expires at (epoch ms)}`. */
  lease(name: string): string {
    return `${this.prefix}lease:${name}`;
  }

  /** A document (a stored conversation): a string with a TTL. */
  document(name: string): string {
    return `${this.prefix}doc:${name}`;
  }

  /** A sliding-window counter: a hash of bucket start → count. */
  counter(name: string): string {
    return `${this.prefix}counter:${name}`;
  }
}
