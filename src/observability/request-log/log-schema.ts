import type { RequestOutcome } from '../outcome.js';
import type { ParentChildRecord, SqlValue } from './sqlite-worker.js';

/**
 * The request log's tables. `seq` orders records as they were written and pages them; times
 * are epoch milliseconds. Attempts have their own table so that "every request that touched
 * target X" is an index lookup. Bodies are stored only when the config asks.
 */
export const schemaSql = `
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
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
  latency_ms INTEGER NOT NULL,
  ttft_ms INTEGER,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cached_tokens INTEGER,
  cost_usd REAL,
  failed_cost_usd REAL NOT NULL,
  hedge_cost_usd REAL NOT NULL,
  mirror_cost_usd REAL NOT NULL,
  request_body TEXT,
  response_body TEXT,
  priority TEXT,
  queue_wait_ms INTEGER,
  attempt_ms INTEGER
);
CREATE INDEX IF NOT EXISTS requests_started_at ON requests (started_at);
CREATE INDEX IF NOT EXISTS requests_route ON requests (route, seq);
CREATE INDEX IF NOT EXISTS requests_request_id ON requests (request_id);
CREATE TABLE IF NOT EXISTS attempts (
  request_seq INTEGER NOT NULL REFERENCES requests (seq) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  target TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  status INTEGER,
  error_code TEXT,
  kind TEXT,
  duration_ms INTEGER NOT NULL,
  retry_after_ms INTEGER,
  role TEXT,
  PRIMARY KEY (request_seq, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attempts_target ON attempts (target, request_seq);
CREATE TABLE IF NOT EXISTS status_minutes (
  component TEXT NOT NULL,
  minute INTEGER NOT NULL,
  healthy_ms INTEGER NOT NULL,
  degraded_ms INTEGER NOT NULL,
  down_ms INTEGER NOT NULL,
  PRIMARY KEY (component, minute)
) WITHOUT ROWID;
`;

/**
 * The status page's history: per component (`route:chat`, `provider:openai`) and minute since
 * the epoch, the time observed healthy, degraded and down. A saved row is time not saved
 * before (the rest of a minute after a restart), so it adds to what the minute holds.
 */
export function upsertStatusMinutesSql(rows: number): string {
  return `INSERT INTO status_minutes (component, minute, healthy_ms, degraded_ms, down_ms) VALUES ${new Array<string>(rows).fill('(?, ?, ?, ?, ?)').join(', ')}
ON CONFLICT (component, minute) DO UPDATE SET healthy_ms = healthy_ms + excluded.healthy_ms, degraded_ms = degraded_ms + excluded.degraded_ms, down_ms = down_ms + excluded.down_ms`;
}

/** Requests per time bucket and serving target, successes and failures apart (the dashboard's traffic chart). */
export const trafficByTargetSql = `SELECT started_at - (started_at % ?) AS bucket, COALESCE(target, '') AS target,
  SUM(CASE WHEN status < 400 THEN 1 ELSE 0 END) AS succeeded, SUM(CASE WHEN status >= 500 OR status = 429 THEN 1 ELSE 0 END) AS failed
FROM requests WHERE started_at >= ? GROUP BY bucket, target`;

export const selectStatusMinutesSql = 'SELECT component, minute, healthy_ms, degraded_ms, down_ms FROM status_minutes WHERE minute >= ? ORDER BY minute';
export const deleteStatusMinutesSql = 'DELETE FROM status_minutes WHERE minute < ?';
/** Status history outlives the request log's own retention: the page shows 90 days. */
export const statusRetentionMs = 91 * 86_400_000;

/**
 * WAL lets readers (the admin API) run beside the writer; NORMAL sync is durable across a crash
 * of the process and loses at most the last transactions on power loss, which a log may.
 * Incremental auto-vacuum lets size-based retention give disk space back.
 */
export const openPragmas = ['auto_vacuum = INCREMENTAL', 'journal_mode = WAL', 'synchronous = NORMAL', 'foreign_keys = ON', 'busy_timeout = 5000'];

/** Columns added since the first schema, for databases created before them (name, SQL type). */
export const addColumns = [
  { table: 'requests', name: 'priority', type: 'TEXT' },
  { table: 'requests', name: 'queue_wait_ms', type: 'INTEGER' },
  { table: 'requests', name: 'error_message', type: 'TEXT' },
  { table: 'requests', name: 'attempt_ms', type: 'INTEGER' },
];

/** The columns a record's row and its attempts' rows fill, in order: both stores insert exactly these. */
export const requestColumns = [
  'request_id', 'started_at', 'route', 'client_key_id', 'format', 'stream', 'target', 'provider', 'model', 'status', 'error_code', 'error_message',
  'is_failover', 'is_degraded', 'latency_ms', 'ttft_ms', 'input_tokens', 'output_tokens', 'cached_tokens', 'cost_usd',
  'failed_cost_usd', 'hedge_cost_usd', 'mirror_cost_usd', 'request_body', 'response_body', 'priority', 'queue_wait_ms', 'attempt_ms',
];
export const attemptColumns = ['request_seq', 'position', 'target', 'provider', 'model', 'status', 'error_code', 'kind', 'duration_ms', 'retry_after_ms', 'role'];

const placeholders = (count: number): string => new Array<string>(count).fill('?').join(', ');

export const insertRequestSql = `INSERT INTO requests (${requestColumns.join(', ')}) VALUES (${placeholders(requestColumns.length)})`;
export const insertAttemptSql = `INSERT INTO attempts (${attemptColumns.join(', ')}) VALUES (${placeholders(attemptColumns.length)})`;

const orNull = <T extends SqlValue>(value: T | undefined): T | null => value ?? null;

/** Prompt and completion text, when bodies are logged. */
export interface LoggedBodies {
  request?: string | undefined;
  response?: string | undefined;
}

/**
 * The one attempt of a request its target answered at the first try, when that attempt says
 * nothing the request's row does not, but its duration. Most requests are such, and an attempt's
 * row (its table, primary key and target index) cost the log's worker about as much again as the
 * request's own: the duration goes in the request's `attempt_ms` instead, and the attempt is read
 * back from the row (`foldedAttemptOf`).
 */
function plainOnlyAttempt(outcome: RequestOutcome): RequestOutcome['attempts'][number] | undefined {
  if (outcome.attempts.length !== 1) return undefined;
  const attempt = outcome.attempts[0]!;
  const isPlain = attempt.code === undefined && attempt.kind === undefined && attempt.retryAfterMs === undefined && attempt.role === undefined;
  const isTheRequests = attempt.status === outcome.status && attempt.target === outcome.target && attempt.provider === outcome.provider && attempt.model === outcome.model;
  return isPlain && isTheRequests ? attempt : undefined;
}

/** An outcome as a row and its attempts' rows: ids, codes, figures and why it failed (the message, redacted before it gets here), never a key. */
export function toRecord(outcome: RequestOutcome, bodies?: LoggedBodies): ParentChildRecord {
  const folded = plainOnlyAttempt(outcome);
  const row: SqlValue[] = [
    outcome.requestId,
    outcome.startedAt,
    outcome.route,
    orNull(outcome.clientKeyId),
    outcome.format,
    outcome.stream ? 1 : 0,
    orNull(outcome.target),
    orNull(outcome.provider),
    orNull(outcome.model),
    outcome.status,
    orNull(outcome.errorCode),
    orNull(outcome.errorMessage),
    outcome.isFailover ? 1 : 0,
    outcome.isDegraded ? 1 : 0,
    Math.round(outcome.latencyMs),
    outcome.ttftMs === undefined ? null : Math.round(outcome.ttftMs),
    orNull(outcome.tokens?.input),
    orNull(outcome.tokens?.output),
    orNull(outcome.tokens?.cachedInput),
    orNull(outcome.cost.successUsd),
    outcome.cost.failedUsd,
    outcome.cost.hedgeUsd,
    outcome.cost.mirrorUsd,
    orNull(bodies?.request),
    orNull(bodies?.response),
    orNull(outcome.priority),
    outcome.queueWaitMs === undefined ? null : Math.round(outcome.queueWaitMs),
    folded ? Math.round(folded.durationMs) : null,
  ];
  if (folded) return { row, children: [] };
  const children = outcome.attempts.map((attempt, position): SqlValue[] => [
    position,
    attempt.target,
    attempt.provider,
    attempt.model,
    orNull(attempt.status),
    orNull(attempt.code),
    orNull(attempt.kind),
    Math.round(attempt.durationMs),
    orNull(attempt.retryAfterMs),
    orNull(attempt.role),
  ]);
  return { row, children };
}
