import type { VirtualKey } from './virtual-key.js';

/** One secret of a key: the current one, or the previous one during a rotation's overlap. */
export interface KeySecretMatch {
  key: VirtualKey;
  /** The stored HMAC, compared again in constant time by the caller. */
  hash: string;
  /** When this secret stops working (a rotated-out secret); undefined for the current one. */
  secretExpiresAt?: number | undefined;
}

/** One line of the audit log: who changed which key or config, when. */
export interface AuditEntry {
  /** Epoch ms. */
  at: number;
  /** `cli`, `admin-api`, or the admin client's address. */
  actor: string;
  /** `key.created`, `key.revoked`, `key.rotated`, `admin.login`, `admin.login_failed`, `admin.logout`, `config.loaded`… */
  action: string;
  /** The key id (or other object) acted on. */
  subject?: string | undefined;
  /** Small JSON-able facts (never a key or a secret). */
  details?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Where virtual keys and the audit log are stored: the request-log database (SQLite by default;
 * a Postgres implementation keeps the same contract). Keys are held only as HMACs; every method
 * may be slow (disk, network), so callers cache (`KeyDirectory`).
 */
export interface KeyStore {
  /** The key whose current or overlapping secret has this HMAC. */
  findByHash(hash: string): Promise<KeySecretMatch | undefined>;
  list(): Promise<VirtualKey[]>;
  get(id: string): Promise<VirtualKey | undefined>;
  /** Stores a new key with its secret's HMAC; rejects when an active key has the same name. */
  create(key: VirtualKey, hash: string): Promise<void>;
  /** Marks a key revoked at `at`; false when there is no such key. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Adds a new secret to a key; its older secrets stop working at `oldExpiresAt`. False when there is no such active key. */
  rotate(id: string, hash: string, oldExpiresAt: number, at: number): Promise<boolean>;
  audit(entry: AuditEntry): Promise<void>;
  /** The newest audit entries first. */
  auditLog(limit: number): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/** A key name taken by another active key. */
export class DuplicateKeyNameError extends Error {
  constructor(readonly keyName: string) {
    super(`an active key is already named "${keyName}"`);
    this.name = 'DuplicateKeyNameError';
  }
}
