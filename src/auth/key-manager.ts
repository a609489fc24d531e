import type { Clock } from '../core/clock.js';
import { DuplicateKeyNameError, type AuditEntry, type KeyStore } from './key-store.js';
import { displayPrefix, generateKey, generateKeyId, hashKey } from './key-secret.js';
import type { KeyLimits, VirtualKey } from './virtual-key.js';

/** What `detour keys create` and `POST /admin/api/keys` ask for. */
export interface KeyRequest extends Partial<KeyLimits> {
  name: string;
  /** Lifetime from now, in ms; the key never expires when absent. */
  expiresInMs?: number | undefined;
}

/** A refused key operation, with a message for the operator. */
export class KeyRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
    this.name = 'KeyRequestError';
  }
}

export interface KeyManagerOptions {
  store: KeyStore;
  secret: string;
  clock: Clock;
  /** Route names a key may be scoped to. */
  routes: readonly string[];
  /** `provider.key-name` of every upstream key a key may be bound to. */
  upstreamKeys: readonly string[];
  /** Names of the config's keys, which a stored key may not take. */
  reservedNames?: readonly string[];
  /** Called after every change, so that a cache in this process forgets the key at once. */
  onChange?: (keyId: string) => void;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Key operations with their checks and audit entries, shared by the CLI and the admin API. The
 * plain key exists only in `create`'s and `rotate`'s answers.
 */
export class KeyManager {
  constructor(private readonly options: KeyManagerOptions) {}

  async create(request: KeyRequest, actor: string): Promise<{ key: VirtualKey; secret: string }> {
    this.check(request);
    const now = this.options.clock.now();
    const secret = generateKey();
    const key: VirtualKey = {
      id: generateKeyId(),
      name: request.name,
      prefix: displayPrefix(secret),
      createdAt: now,
      expiresAt: request.expiresInMs === undefined ? undefined : now + request.expiresInMs,
      source: 'store',
      routes: request.routes,
      rpm: request.rpm,
      tpm: request.tpm,
      maxParallel: request.maxParallel,
      budgetUsd: request.budgetUsd,
      period: request.period,
      priority: request.priority ?? 'normal',
      upstreamKeys: request.upstreamKeys,
    };
    try {
      await this.options.store.create(key, hashKey(this.options.secret, secret));
    } catch (error) {
      if (error instanceof DuplicateKeyNameError) throw new KeyRequestError(error.message, 409);
      throw error;
    }
    await this.audit(actor, 'key.created', key.id, { name: key.name });
    return { key, secret };
  }

  list(): Promise<VirtualKey[]> {
    return this.options.store.list();
  }

  async show(id: string): Promise<VirtualKey> {
    const key = await this.options.store.get(id);
    if (!key) throw new KeyRequestError(`no key with id "${id}"`, 404);
    return key;
  }

  async revoke(id: string, actor: string): Promise<VirtualKey> {
    const key = await this.show(id);
    if (key.revokedAt === undefined) {
      await this.options.store.revoke(id, this.options.clock.now());
      this.options.onChange?.(id);
      await this.audit(actor, 'key.revoked', id, { name: key.name });
    }
    return this.show(id);
  }

  /** A new secret for the key; the old one keeps working for `overlapMs` (0: stops now). */
  async rotate(id: string, overlapMs: number, actor: string): Promise<{ key: VirtualKey; secret: string; previousExpiresAt: number }> {
    const key = await this.show(id);
    if (key.revokedAt !== undefined) throw new KeyRequestError(`key "${id}" is revoked and cannot be rotated`, 409);
    const now = this.options.clock.now();
    const secret = generateKey();
    const previousExpiresAt = now + overlapMs;
    if (!(await this.options.store.rotate(id, hashKey(this.options.secret, secret), previousExpiresAt, now))) throw new KeyRequestError(`key "${id}" cannot be rotated`, 409);
    this.options.onChange?.(id);
    await this.audit(actor, 'key.rotated', id, { name: key.name, overlap_ms: overlapMs });
    return { key, secret, previousExpiresAt };
  }

  audit(actor: string, action: string, subject?: string, details?: AuditEntry['details']): Promise<void> {
    return this.options.store.audit({ at: this.options.clock.now(), actor, action, subject, details });
  }

  private check(request: KeyRequest): void {
    if (!namePattern.test(request.name)) throw new KeyRequestError('name: 1-64 letters, digits, ".", "-" or "_", starting with a letter or digit', 400);
    if (this.options.reservedNames?.includes(request.name)) throw new KeyRequestError(`name: "${request.name}" is a key of the config (auth.keys)`, 409);
    for (const route of request.routes ?? []) {
      if (!this.options.routes.includes(route)) throw new KeyRequestError(`routes: unknown route "${route}" (known: ${this.options.routes.join(', ') || 'none'})`, 400);
    }
    for (const reference of request.upstreamKeys ?? []) {
      if (!this.options.upstreamKeys.includes(reference)) throw new KeyRequestError(`upstream_keys: unknown upstream key "${reference}" (known: ${this.options.upstreamKeys.join(', ') || 'none'})`, 400);
    }
    const positive = (name: string, value: number | undefined, isInteger: boolean): void => {
      if (value !== undefined && (!Number.isFinite(value) || value <= 0 || (isInteger && !Number.isInteger(value)))) throw new KeyRequestError(`${name}: expected a ${isInteger ? 'whole ' : ''}number above 0`, 400);
    };
    positive('rpm', request.rpm, true);
    positive('tpm', request.tpm, true);
    positive('max_parallel', request.maxParallel, true);
    positive('budget_usd', request.budgetUsd, false);
    if (request.budgetUsd !== undefined && request.period === undefined) throw new KeyRequestError('period: a budget needs a period (day, week or month)', 400);
    if (request.period !== undefined && request.budgetUsd === undefined) throw new KeyRequestError('budget_usd: a period needs a budget', 400);
    if (request.expiresInMs !== undefined && !(request.expiresInMs > 0)) throw new KeyRequestError('expires: expected a duration above 0, e.g. 90d', 400);
  }
}
