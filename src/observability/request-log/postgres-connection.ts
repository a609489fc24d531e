import type { Pool, PoolClient } from 'pg';
import { postgresSchemaSql, requestLogSchemaVersion, schemaLockKey } from './postgres-schema.js';

/** The database holds a request log written by a newer Detour: this one does not write into it. */
export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(`the database's request log has schema version ${found}, newer than this Detour's ${requestLogSchemaVersion}; upgrade Detour or point log.url at another database`);
    this.name = 'SchemaTooNewError';
  }
}

/**
 * SQLSTATE classes a retry cannot fix: data exceptions (22), integrity violations (23), syntax
 * and access errors (42), except a table that is missing (42P01: dropped or restored under us,
 * which reconnecting recreates). Everything else (no connection, a reset, a timeout, a server
 * shutting down, an error without a SQLSTATE) is worth retrying once the database answers.
 */
export function isConnectionError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  if (code === '42P01') return true;
  return !/^(22|23|42)/.test(code);
}

/**
 * Creates the tables and indexes if they are missing and records the schema version, once per
 * connection: a database at this version is left untouched (no DDL, so no lock against the
 * other instances' writes). Instances starting together are serialized by an advisory lock.
 */
export async function ensurePostgresSchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  const release = guardCheckedOut(client);
  let failure: unknown;
  try {
    const found = await client.query<{ version: number }>(
      `SELECT version FROM detour_schema WHERE component = 'request_log'`,
    ).catch((error: unknown) => {
      // The version table itself is missing (a new database): created below.
      if ((error as { code?: unknown }).code === '42P01') return { rows: [] };
      throw error;
    });
    const version = found.rows[0]?.version;
    if (version !== undefined && version > requestLogSchemaVersion) throw new SchemaTooNewError(version);
    if (version === requestLogSchemaVersion) return;
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [schemaLockKey]);
    for (const sql of postgresSchemaSql) await client.query(sql);
    await client.query(`INSERT INTO detour_schema (component, version) VALUES ('request_log', $1) ON CONFLICT (component) DO UPDATE SET version = GREATEST(detour_schema.version, excluded.version)`, [requestLogSchemaVersion]);
    const after = await client.query<{ version: number }>(`SELECT version FROM detour_schema WHERE component = 'request_log'`);
    const written = after.rows[0]?.version ?? requestLogSchemaVersion;
    if (written > requestLogSchemaVersion) throw new SchemaTooNewError(written);
    await client.query('COMMIT');
  } catch (error) {
    failure = error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    release(failure !== undefined && isConnectionError(failure) ? (failure instanceof Error ? failure : new Error(String(failure))) : undefined);
  }
}

/**
 * The pool listens for errors of idle connections only: a connection lost while checked out
 * (between two statements of a transaction) emits an error nobody hears, which would end the
 * process. The next statement fails and says so; this listener only keeps the process alive.
 * Returns the release to call instead of `client.release`.
 */
export function guardCheckedOut(client: PoolClient): (error?: Error) => void {
  const ignore = (): void => undefined;
  client.on('error', ignore);
  return (error) => {
    client.off('error', ignore);
    client.release(error);
  };
}
