import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DuplicateKeyNameError, type AuditEntry, type KeySecretMatch, type KeyStore } from './key-store.js';
import type { KeyPeriod, KeyPriority, VirtualKey } from './virtual-key.js';

/**
 * The keys' tables, beside the request log's in the same file. A key has one or more secrets
 * (two during a rotation's overlap); each secret is an HMAC, never the key.
 */
const schemaSql = `
CREATE TABLE IF NOT EXISTS virtual_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  limits TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS virtual_key_secrets (
  hash TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES virtual_keys (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS virtual_key_secrets_key ON virtual_key_secrets (key_id);
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT,
  details TEXT
);
`;

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  limits: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

/** The limits column: everything of a key that is not its identity or its times. */
interface StoredLimits {
  routes?: string[];
  rpm?: number;
  tpm?: number;
  max_parallel?: number;
  budget_usd?: number;
  period?: KeyPeriod;
  priority?: KeyPriority;
  upstream_keys?: string[];
}

function toLimits(key: VirtualKey): StoredLimits {
  return {
    routes: key.routes ? [...key.routes] : undefined,
    rpm: key.rpm,
    tpm: key.tpm,
    max_parallel: key.maxParallel,
    budget_usd: key.budgetUsd,
    period: key.period,
    priority: key.priority,
    upstream_keys: key.upstreamKeys ? [...key.upstreamKeys] : undefined,
  };
}

function fromRow(row: KeyRow): VirtualKey {
  let limits: StoredLimits = {};
  try {
    limits = JSON.parse(row.limits) as StoredLimits;
  } catch {
    // A damaged row keeps no limits it cannot read; its identity and times still apply.
  }
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
    source: 'store',
    routes: limits.routes,
    rpm: limits.rpm,
    tpm: limits.tpm,
    maxParallel: limits.max_parallel,
    budgetUsd: limits.budget_usd,
    period: limits.period,
    priority: limits.priority ?? 'normal',
    upstreamKeys: limits.upstream_keys,
  };
}

/**
 * Keys in an SQLite file (the request log's, by default). Reads are prepared-statement lookups
 * on the primary key, synchronous inside: fast enough for the `KeyDirectory`'s cache misses, and
 * the file's WAL lets the request log's writer and the CLI work beside it.
 */
export class SqliteKeyStore implements KeyStore {
  private readonly db: BetterSqlite3.Database;
  private readonly statements;

  constructor(path: string) {
    const file = resolve(path);
    mkdirSync(dirname(file), { recursive: true });
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    this.db = new Database(file);
    for (const pragma of ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000']) this.db.pragma(pragma);
    this.db.exec(schemaSql);
    this.statements = {
      byHash: this.db.prepare<[string], KeyRow & { secret_expires_at: number | null; hash: string }>(
        'SELECT k.*, s.hash AS hash, s.expires_at AS secret_expires_at FROM virtual_key_secrets s JOIN virtual_keys k ON k.id = s.key_id WHERE s.hash = ?',
      ),
      byId: this.db.prepare<[string], KeyRow>('SELECT * FROM virtual_keys WHERE id = ?'),
      all: this.db.prepare<[], KeyRow>('SELECT * FROM virtual_keys ORDER BY created_at, id'),
      activeByName: this.db.prepare<[string, number], { id: string }>('SELECT id FROM virtual_keys WHERE name = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)'),
      insertKey: this.db.prepare('INSERT INTO virtual_keys (id, name, prefix, limits, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)'),
      insertSecret: this.db.prepare('INSERT INTO virtual_key_secrets (hash, key_id, created_at, expires_at) VALUES (?, ?, ?, NULL)'),
      revoke: this.db.prepare('UPDATE virtual_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      expireSecrets: this.db.prepare('UPDATE virtual_key_secrets SET expires_at = ? WHERE key_id = ? AND (expires_at IS NULL OR expires_at > ?)'),
      insertAudit: this.db.prepare('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)'),
      audit: this.db.prepare<[number], { at: number; actor: string; action: string; subject: string | null; details: string | null }>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?'),
    };
  }

  async findByHash(hash: string): Promise<KeySecretMatch | undefined> {
    const row = this.statements.byHash.get(hash);
    if (!row) return undefined;
    return { key: fromRow(row), hash: row.hash, secretExpiresAt: row.secret_expires_at ?? undefined };
  }

  async list(): Promise<VirtualKey[]> {
    return this.statements.all.all().map(fromRow);
  }

  async get(id: string): Promise<VirtualKey | undefined> {
    const row = this.statements.byId.get(id);
    return row ? fromRow(row) : undefined;
  }

  async create(key: VirtualKey, hash: string): Promise<void> {
    this.db.transaction(() => {
      if (this.statements.activeByName.get(key.name, key.createdAt)) throw new DuplicateKeyNameError(key.name);
      this.statements.insertKey.run(key.id, key.name, key.prefix, JSON.stringify(toLimits(key)), key.createdAt, key.expiresAt ?? null);
      this.statements.insertSecret.run(hash, key.id, key.createdAt);
    })();
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return this.statements.revoke.run(at, id).changes > 0;
  }

  async rotate(id: string, hash: string, oldExpiresAt: number, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.statements.byId.get(id);
      if (!row || row.revoked_at !== null) return false;
      this.statements.expireSecrets.run(oldExpiresAt, id, oldExpiresAt);
      this.statements.insertSecret.run(hash, id, at);
      return true;
    })();
  }

  async audit(entry: AuditEntry): Promise<void> {
    this.statements.insertAudit.run(entry.at, entry.actor, entry.action, entry.subject ?? null, entry.details ? JSON.stringify(entry.details) : null);
  }

  async auditLog(limit: number): Promise<AuditEntry[]> {
    return this.statements.audit.all(Math.max(1, Math.min(1000, limit))).map((row) => ({
      at: row.at,
      actor: row.actor,
      action: row.action,
      subject: row.subject ?? undefined,
      details: row.details === null ? undefined : (JSON.parse(row.details) as Record<string, unknown>),
    }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
