import type { SqlValue } from './sqlite-worker.js';

/** Filters of `GET /admin/api/requests`; every field narrows the result. */
export interface RequestFilter {
  /** The request id its `x-request-id` answer header gave: what a client reports (one request, unless the client sent that id twice). */
  requestId?: string | undefined;
  route?: string | undefined;
  /** The serving target, or any target an attempt went to. */
  target?: string | undefined;
  clientKey?: string | undefined;
  errorCode?: string | undefined;
  /** Inclusive status range: `503` is 503–503, `5xx` is 500–599, `error` is 400–599, `success` 100–399. */
  status?: { min: number; max: number } | undefined;
  isFailover?: boolean | undefined;
  /** Start time range (epoch ms), inclusive since, exclusive until. */
  since?: number | undefined;
  until?: number | undefined;
  limit: number;
  /** Paging: records written before this sequence number. */
  beforeSeq?: number | undefined;
}

export const defaultPageSize = 50;
export const maxPageSize = 500;

function parseTime(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function parseStatus(value: string): { min: number; max: number } | undefined {
  if (value === 'success') return { min: 100, max: 399 };
  if (value === 'error') return { min: 400, max: 599 };
  const classMatch = /^([1-5])xx$/i.exec(value);
  if (classMatch) return { min: Number(classMatch[1]) * 100, max: Number(classMatch[1]) * 100 + 99 };
  if (/^[1-5]\d\d$/.test(value)) return { min: Number(value), max: Number(value) };
  return undefined;
}

/** Opaque to clients; today the sequence number of the page's last record. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

function decodeCursor(value: string): number | undefined {
  const match = /^s(\d+)$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

/** Parses the query string, or explains the first parameter that is wrong. */
export function parseRequestFilter(params: URLSearchParams): { filter: RequestFilter } | { error: string } {
  const filter: RequestFilter = { limit: defaultPageSize };
  const text = (name: string): string | undefined => params.get(name) ?? undefined;
  filter.requestId = text('request_id');
  filter.route = text('route');
  filter.target = text('target');
  filter.clientKey = text('client_key');
  filter.errorCode = text('error_code');
  const status = text('status');
  if (status !== undefined) {
    filter.status = parseStatus(status);
    if (!filter.status) return { error: `status: expected a code (503), a class (5xx), "success" or "error", got "${status}"` };
  }
  const failover = text('failover');
  if (failover !== undefined) {
    if (failover !== 'true' && failover !== 'false') return { error: `failover: expected true or false, got "${failover}"` };
    filter.isFailover = failover === 'true';
  }
  for (const name of ['since', 'until'] as const) {
    const value = text(name);
    if (value === undefined) continue;
    const time = parseTime(value);
    if (time === undefined) return { error: `${name}: expected an ISO 8601 time or epoch milliseconds, got "${value}"` };
    filter[name] = time;
  }
  const limit = text('limit');
  if (limit !== undefined) {
    const parsed = Number(limit);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > maxPageSize) return { error: `limit: expected a whole number from 1 to ${maxPageSize}, got "${limit}"` };
    filter.limit = parsed;
  }
  const cursor = text('cursor');
  if (cursor !== undefined) {
    filter.beforeSeq = decodeCursor(cursor);
    if (filter.beforeSeq === undefined) return { error: 'cursor: not a cursor this API returned' };
  }
  return { filter };
}

/** The page query: newest first, one more row than asked to learn whether another page follows. */
export function buildPageQuery(filter: RequestFilter): { sql: string; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (clause: string, ...values: SqlValue[]): void => {
    where.push(clause);
    params.push(...values);
  };
  if (filter.requestId !== undefined) add('request_id = ?', filter.requestId);
  if (filter.route !== undefined) add('route = ?', filter.route);
  if (filter.target !== undefined) add('(target = ? OR seq IN (SELECT request_seq FROM attempts WHERE target = ?))', filter.target, filter.target);
  if (filter.clientKey !== undefined) add('client_key_id = ?', filter.clientKey);
  if (filter.errorCode !== undefined) add('error_code = ?', filter.errorCode);
  if (filter.status) add('status BETWEEN ? AND ?', filter.status.min, filter.status.max);
  if (filter.isFailover !== undefined) add('is_failover = ?', filter.isFailover ? 1 : 0);
  if (filter.since !== undefined) add('started_at >= ?', filter.since);
  if (filter.until !== undefined) add('started_at < ?', filter.until);
  if (filter.beforeSeq !== undefined) add('seq < ?', filter.beforeSeq);
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM requests ${clause} ORDER BY seq DESC LIMIT ?`, params: [...params, filter.limit + 1] };
}

export function attemptsQuery(seqs: readonly number[]): { sql: string; params: SqlValue[] } {
  return {
    sql: `SELECT * FROM attempts WHERE request_seq IN (${seqs.map(() => '?').join(', ')}) ORDER BY request_seq, position`,
    params: [...seqs],
  };
}

/** A logged attempt, as the admin API returns it. */
export interface LoggedAttempt {
  target: string;
  provider: string;
  model: string;
  status: number | null;
  error_code: string | null;
  kind: string | null;
  duration_ms: number;
  retry_after_ms: number | null;
  role: string | null;
}

/** A logged request, as the admin API returns it. */
export interface LoggedRequest {
  id: string;
  time: string;
  route: string;
  client_key_id: string | null;
  format: string;
  stream: boolean;
  target: string | null;
  provider: string | null;
  model: string | null;
  status: number;
  error_code: string | null;
  /** Why it failed or was refused, in words (redacted); null for a success. */
  error_message: string | null;
  failover: boolean;
  degraded: boolean;
  latency_ms: number;
  ttft_ms: number | null;
  usage: { input_tokens: number; output_tokens: number; cached_tokens: number } | null;
  cost_usd: number | null;
  extra_cost_usd: { failed: number; hedge: number; mirror: number };
  /** `x-detour-priority` as the client sent it; null: normal. */
  priority: string | null;
  /** Time spent in the route's queue waiting for room under the targets' rate limits; null: it never waited. */
  queue_wait_ms: number | null;
  /**
   * A stream that broke after its start and was continued: how many times, and the targets that
   * served it in order (the broken one first). Read from the attempts (role `continuation`).
   */
  continuation: { count: number; targets: string[] } | null;
  attempts: LoggedAttempt[];
  request_body?: string;
  response_body?: string;
}

type Row = Record<string, unknown>;

const str = (row: Row, key: string): string => String(row[key] ?? '');
const strOrNull = (row: Row, key: string): string | null => (typeof row[key] === 'string' ? row[key] : null);
const num = (row: Row, key: string): number => (typeof row[key] === 'number' ? row[key] : 0);
const numOrNull = (row: Row, key: string): number | null => (typeof row[key] === 'number' ? row[key] : null);

export function toLoggedAttempt(row: Row): LoggedAttempt {
  return {
    target: str(row, 'target'),
    provider: str(row, 'provider'),
    model: str(row, 'model'),
    status: numOrNull(row, 'status'),
    error_code: strOrNull(row, 'error_code'),
    kind: strOrNull(row, 'kind'),
    duration_ms: num(row, 'duration_ms'),
    retry_after_ms: numOrNull(row, 'retry_after_ms'),
    role: strOrNull(row, 'role'),
  };
}

/** The attempt a request's row holds when it was its only one (`attempt_ms`, see `toRecord`); undefined for any other row. */
export function foldedAttemptOf(row: Row): LoggedAttempt | undefined {
  const durationMs = numOrNull(row, 'attempt_ms');
  if (durationMs === null) return undefined;
  return { target: str(row, 'target'), provider: str(row, 'provider'), model: str(row, 'model'), status: numOrNull(row, 'status'), error_code: null, kind: null, duration_ms: durationMs, retry_after_ms: null, role: null };
}

/** The chain of targets that served a continued stream: the stream that started, then each continuation that did. */
export function continuationOf(attempts: readonly LoggedAttempt[]): LoggedRequest['continuation'] {
  const started = attempts.filter((attempt) => attempt.role === 'continuation' && attempt.status === 200 && attempt.error_code === null);
  if (started.length === 0) return null;
  const firstContinuation = attempts.indexOf(started[0] as LoggedAttempt);
  const broken = attempts.slice(0, firstContinuation).reverse().find((attempt) => attempt.status === 200 && attempt.error_code === null && attempt.role !== 'continuation');
  return { count: started.length, targets: [...(broken ? [broken.target] : []), ...started.map((attempt) => attempt.target)] };
}

export function toLoggedRequest(row: Row, attempts: LoggedAttempt[]): LoggedRequest {
  const input = numOrNull(row, 'input_tokens');
  const entry: LoggedRequest = {
    id: str(row, 'request_id'),
    time: new Date(num(row, 'started_at')).toISOString(),
    route: str(row, 'route'),
    client_key_id: strOrNull(row, 'client_key_id'),
    format: str(row, 'format'),
    stream: num(row, 'stream') === 1,
    target: strOrNull(row, 'target'),
    provider: strOrNull(row, 'provider'),
    model: strOrNull(row, 'model'),
    status: num(row, 'status'),
    error_code: strOrNull(row, 'error_code'),
    error_message: strOrNull(row, 'error_message'),
    failover: num(row, 'is_failover') === 1,
    degraded: num(row, 'is_degraded') === 1,
    latency_ms: num(row, 'latency_ms'),
    ttft_ms: numOrNull(row, 'ttft_ms'),
    usage: input === null ? null : { input_tokens: input, output_tokens: num(row, 'output_tokens'), cached_tokens: num(row, 'cached_tokens') },
    cost_usd: numOrNull(row, 'cost_usd'),
    extra_cost_usd: { failed: num(row, 'failed_cost_usd'), hedge: num(row, 'hedge_cost_usd'), mirror: num(row, 'mirror_cost_usd') },
    priority: strOrNull(row, 'priority'),
    queue_wait_ms: numOrNull(row, 'queue_wait_ms'),
    continuation: continuationOf(attempts),
    attempts,
  };
  const requestBody = strOrNull(row, 'request_body');
  const responseBody = strOrNull(row, 'response_body');
  if (requestBody !== null) entry.request_body = requestBody;
  if (responseBody !== null) entry.response_body = responseBody;
  return entry;
}
