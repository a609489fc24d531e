import type { Clock } from '../core/clock.js';
import type { KeySecretMatch, KeyStore } from './key-store.js';
import { hashKey, isSameHash } from './key-secret.js';
import { keyInactiveReason, type VirtualKey } from './virtual-key.js';

/** What a presented key turned out to be. */
export type KeyLookup =
  | { status: 'valid'; key: VirtualKey }
  | { status: 'unknown' }
  | { status: 'revoked' | 'expired'; key: VirtualKey };

export interface KeyDirectoryOptions {
  /** The HMAC secret (`auth.secret`). */
  secret: string;
  /** Keys from `auth.keys`, with their plain key (hashed here, then forgotten). */
  configKeys: ReadonlyArray<{ key: VirtualKey; plain: string }>;
  /** Stored keys; absent when only config keys are used. */
  store?: KeyStore | undefined;
  clock: Clock;
  /** How long a lookup is trusted before the store is asked again (revocations elsewhere take this long at most). */
  cacheMs?: number;
  /** Lookups remembered at once, found or not; bounded so that a flood of invented keys cannot grow memory. */
  cacheSize?: number;
}

interface Cached {
  found: KeySecretMatch | undefined;
  checkedAt: number;
}

/**
 * Answers "whose key is this?" for every request: the key's HMAC is looked up among the config's
 * keys, then in the store, through a small cache, so that a request usually costs one HMAC and
 * one map lookup. The found hash is compared again in constant time. A key revoked from another
 * process (the CLI) stops working within `cacheMs`; one revoked here stops at once.
 */
export class KeyDirectory {
  private readonly configByHash = new Map<string, { key: VirtualKey; hash: string }>();
  private readonly cache = new Map<string, Cached>();
  private readonly cacheMs: number;
  private readonly cacheSize: number;

  constructor(private readonly options: KeyDirectoryOptions) {
    for (const { key, plain } of options.configKeys) {
      const hash = hashKey(options.secret, plain);
      this.configByHash.set(hash, { key, hash });
    }
    this.cacheMs = options.cacheMs ?? 2_000;
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  get store(): KeyStore | undefined {
    return this.options.store;
  }

  get secret(): string {
    return this.options.secret;
  }

  configKeys(): VirtualKey[] {
    return [...this.configByHash.values()].map((entry) => entry.key);
  }

  async lookup(presented: string): Promise<KeyLookup> {
    const now = this.options.clock.now();
    const hash = hashKey(this.options.secret, presented);
    const configured = this.configByHash.get(hash);
    // The map finds the entry by an HMAC the client cannot steer; the match is then confirmed in constant time.
    if (configured && isSameHash(configured.hash, hash)) return this.verdict(configured.key, undefined, now);
    const store = this.options.store;
    if (!store) return { status: 'unknown' };
    let cached = this.cache.get(hash);
    if (!cached || now - cached.checkedAt >= this.cacheMs) {
      cached = { found: await store.findByHash(hash), checkedAt: now };
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(hash, cached);
    }
    if (!cached.found || !isSameHash(cached.found.hash, hash)) return { status: 'unknown' };
    return this.verdict(cached.found.key, cached.found.secretExpiresAt, now);
  }

  /** Forgets what is cached of a key (after a revocation or rotation made here). */
  forget(keyId: string): void {
    for (const [hash, cached] of this.cache) if (cached.found?.key.id === keyId) this.cache.delete(hash);
  }

  private verdict(key: VirtualKey, secretExpiresAt: number | undefined, now: number): KeyLookup {
    const reason = keyInactiveReason(key, now);
    if (reason) return { status: reason, key };
    // A rotated-out secret past its overlap is as good as unknown: the key lives on under its new secret.
    if (secretExpiresAt !== undefined && secretExpiresAt <= now) return { status: 'unknown' };
    return { status: 'valid', key };
  }
}
