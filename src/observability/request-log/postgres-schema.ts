import type { StatusMinuteRow } from '../status/status-history.js';
import { attemptColumns, requestColumns } from './log-schema.js';
import type { ParentChildRecord, SqlValue } from './sqlite-worker.js';

/**
 * The request log's tables in PostgreSQL: the SQLite log's columns and indexes, with Postgres
 * types (epoch milliseconds and sequence numbers are BIGINT, costs DOUBLE PRECISION, flags
 * INTEGER 0/1 as in SQLite, so that one row mapping reads both). `seq` comes from one sequence
 * the whole cluster shares: it orders and pages every instance's records together.
 */
/** 2: `priority` and `queue_wait_ms` on requests; 3: `error_message`; 4: `attempt_ms` (each added to an older database by `ALTER TABLE … IF NOT EXISTS`). */
export const requestLogSchemaVersion = 4;

/** Any number the instances agree on: schema creation is serialized by it, so that two instances starting at once do not race on CREATE TABLE. */
export const schemaLockKey = 0x6465746f7572;

export const postgresSchemaSql = [
  `CREATE TABLE IF NOT EXISTS detour_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS requests (
  seq BIGSERIAL PRIMARY KEY,
  request_id TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  route TEXT NOT NULL,
  client_key_id TEXT,
  format TEXT NOT NULL,
  stream INTEGER NOT NULL,
  target TEXT,
  provider TEXT,
  model TEXT,
  status INTEGER NOT NULL,
  error_code TEXT,
  error_message TEXT,
  is_failover INTEGER NOT NULL,
  is_degraded INTEGER NOT NULL,
  latency_ms BIGINT NOT NULL,
  ttft_ms BIGINT,
  input_tokens BIGINT,
  output_tokens BIGINT,
  cached_tokens BIGINT,
  cost_usd DOUBLE PRECISION,
  failed_cost_usd DOUBLE PRECISION NOT NULL,
  hedge_cost_usd DOUBLE PRECISION NOT NULL,
  mirror_cost_usd DOUBLE PRECISION NOT NULL,
  request_body TEXT,
  response_body TEXT,
  priority TEXT,
  queue_wait_ms BIGINT,
  attempt_ms BIGINT
)`,
  // Added after the first version of the table: a database created before them gets them here.
  `ALTER TABLE requests ADD COLUMN IF NOT EXISTS priority TEXT`,
  `ALTER TABLE requests ADD COLUMN IF NOT EXISTS queue_wait_ms BIGINT`,
  `ALTER TABLE requests ADD COLUMN IF NOT EXISTS error_message TEXT`,
  `ALTER TABLE requests ADD COLUMN IF NOT EXISTS attempt_ms BIGINT`,
  `CREATE INDEX IF NOT EXISTS requests_started_at ON requests (started_at)`,
  `CREATE INDEX IF NOT EXISTS requests_route ON requests (route, seq)`,
  `CREATE INDEX IF NOT EXISTS requests_request_id ON requests (request_id)`,
  `CREATE TABLE IF NOT EXISTS attempts (
  request_seq BIGINT NOT NULL REFERENCES requests (seq) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  target TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  status INTEGER,
  error_code TEXT,
  kind TEXT,
  duration_ms BIGINT NOT NULL,
  retry_after_ms BIGINT,
  role TEXT,
  PRIMARY KEY (request_seq, position)
)`,
  `CREATE INDEX IF NOT EXISTS attempts_target ON attempts (target, request_seq)`,
  `CREATE TABLE IF NOT EXISTS status_minutes (
  component TEXT NOT NULL,
  minute BIGINT NOT NULL,
  healthy_ms BIGINT NOT NULL,
  degraded_ms BIGINT NOT NULL,
  down_ms BIGINT NOT NULL,
  PRIMARY KEY (component, minute)
)`,
];

/** Rows per INSERT: far under Postgres's 65,535 parameters per statement. */
export const rowsPerInsert = 500;

/** `($1, $2), ($3, $4)…` for `rows` rows of `columns` values. */
function valuesList(rows: number, columns: number): string {
  const groups: string[] = [];
  for (let row = 0; row < rows; row++) {
    const start = row * columns;
    groups.push(`(${Array.from({ length: columns }, (_, column) => `$${start + column + 1}`).join(', ')})`);
  }
  return groups.join(', ');
}

/** Postgres TEXT cannot hold NUL: a body that had one keeps its place with U+FFFD. */
function pgValue(value: SqlValue): SqlValue {
  return typeof value === 'string' && value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
}

export interface Statement {
  text: string;
  values: SqlValue[];
}

/** Sequence numbers for `count` records, reserved before the insert so that attempts can name their request. */
export function reserveSeqsSql(count: number): Statement {
  return { text: `SELECT nextval(pg_get_serial_sequence('requests', 'seq')) AS seq FROM generate_series(1, $1)`, values: [count] };
}

/** Multi-row INSERTs for a batch whose records got `seqs` (in order). */
export function insertBatchSql(records: readonly ParentChildRecord[], seqs: readonly number[]): Statement[] {
  const statements: Statement[] = [];
  for (let start = 0; start < records.length; start += rowsPerInsert) {
    const chunk = records.slice(start, start + rowsPerInsert);
    const values: SqlValue[] = [];
    chunk.forEach((record, index) => values.push(seqs[start + index] ?? null, ...record.row.map(pgValue)));
    statements.push({ text: `INSERT INTO requests (seq, ${requestColumns.join(', ')}) VALUES ${valuesList(chunk.length, requestColumns.length + 1)}`, values });
  }
  const attempts: SqlValue[][] = [];
  records.forEach((record, index) => {
    for (const child of record.children) attempts.push([seqs[index] ?? null, ...child.map(pgValue)]);
  });
  for (let start = 0; start < attempts.length; start += rowsPerInsert) {
    const chunk = attempts.slice(start, start + rowsPerInsert);
    statements.push({ text: `INSERT INTO attempts (${attemptColumns.join(', ')}) VALUES ${valuesList(chunk.length, attemptColumns.length)}`, values: chunk.flat() });
  }
  return statements;
}

/** SQLite's `?` placeholders as Postgres's `$1, $2…` (the shared queries hold no `?` in literals). */
export function toPositional(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

/** As in SQLite: grouped by the output columns (in Postgres, `GROUP BY target` would name the raw column, splitting NULL from ''). */
export const trafficByTargetPgSql = `SELECT started_at - (started_at % $1) AS bucket, COALESCE(target, '') AS target,
  SUM(CASE WHEN status < 400 THEN 1 ELSE 0 END) AS succeeded, SUM(CASE WHEN status >= 500 OR status = 429 THEN 1 ELSE 0 END) AS failed
FROM requests WHERE started_at >= $2 GROUP BY 1, 2`;

/**
 * Every instance adds the time it observed to a minute: the minute's tally is the cluster's,
 * and the status page shows shares of observed time. Rows for the same minute are merged first,
 * since one INSERT … ON CONFLICT may not touch a row twice.
 */
export function upsertStatusMinutesPgSql(rows: readonly StatusMinuteRow[]): Statement {
  const merged = new Map<string, StatusMinuteRow>();
  for (const row of rows) {
    const key = `${row.component}\n${row.minute}`;
    const seen = merged.get(key);
    if (seen) merged.set(key, { ...seen, healthyMs: seen.healthyMs + row.healthyMs, degradedMs: seen.degradedMs + row.degradedMs, downMs: seen.downMs + row.downMs });
    else merged.set(key, row);
  }
  const list = [...merged.values()];
  return {
    text: `INSERT INTO status_minutes AS s (component, minute, healthy_ms, degraded_ms, down_ms) VALUES ${valuesList(list.length, 5)}
ON CONFLICT (component, minute) DO UPDATE SET healthy_ms = s.healthy_ms + excluded.healthy_ms, degraded_ms = s.degraded_ms + excluded.degraded_ms, down_ms = s.down_ms + excluded.down_ms`,
    values: list.flatMap((row) => [row.component, row.minute, Math.round(row.healthyMs), Math.round(row.degradedMs), Math.round(row.downMs)]),
  };
}

export const selectStatusMinutesPgSql = 'SELECT component, minute, healthy_ms, degraded_ms, down_ms FROM status_minutes WHERE minute >= $1 ORDER BY minute';
export const deleteStatusMinutesPgSql = 'DELETE FROM status_minutes WHERE minute < $1';
export const deleteOldRequestsPgSql = 'DELETE FROM requests WHERE seq IN (SELECT seq FROM requests WHERE started_at < $1 ORDER BY seq LIMIT $2)';
