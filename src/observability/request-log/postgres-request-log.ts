import type { Pool, PoolClient, PoolConfig } from 'pg';
import type { Clock } from '../../core/clock.js';
import { redactSecrets } from '../../providers/shared/redact.js';
import type { Logger } from '../logger.js';
import type { DetourMetrics } from '../metrics/metrics.js';
import type { RequestOutcome } from '../outcome.js';
import type { RequestLogSettings } from '../settings.js';
import type { StatusMinuteRow } from '../status/status-history.js';
import type { TrafficRow } from '../traffic-series.js';
import { databaseUrlSecrets, redactDatabaseUrl } from './database-url.js';
import type { RequestFilter } from './log-query.js';
import { readPage } from './log-page.js';
import { statusRetentionMs, toRecord } from './log-schema.js';
import { LossReporter } from './loss-reporter.js';
import { ensurePostgresSchema, guardCheckedOut, isConnectionError, SchemaTooNewError } from './postgres-connection.js';
import { deleteOldRequestsPgSql, deleteStatusMinutesPgSql, insertBatchSql, reserveSeqsSql, selectStatusMinutesPgSql, toPositional, trafficByTargetPgSql, upsertStatusMinutesPgSql } from './postgres-schema.js';
import type { BodySource, RequestLogPage, RequestLogStore } from './request-log-store.js';
import type { ParentChildRecord, SqlValue } from './sqlite-worker.js';

const retentionEveryMs = 60_000;
const deleteChunk = 5000;
/** Largest batch written in one transaction while records are backed up. */
const backlogBatch = 5000;
/** Reconnection attempts back off from the first delay to the last. */
const firstRetryMs = 250;
const maxRetryMs = 5000;
/** Status minutes kept for a database that is down (about a day for 10 components). */
const maxPendingStatusRows = 20_000;

type State = 'connecting' | 'open' | 'down' | 'refused' | 'closed';

/**
 * The request log in a PostgreSQL database that every instance of a cluster shares, so that each
 * instance's admin API and dashboard show the whole cluster. Like the SQLite log, records are
 * queued off the request path and written in batches (multi-row INSERTs in one transaction).
 * When the database is unreachable, at start or later, records wait in the bounded queue while
 * the connection is retried with backoff; what does not fit, or is still queued at exit, is
 * counted in `detour_request_log_dropped_total` and reported. No record is lost silently.
 */
export class PostgresRequestLog implements RequestLogStore {
  readonly backend = 'postgres' as const;
  readonly location: string;
  private queue: ParentChildRecord[] = [];
  private pendingStatus: StatusMinuteRow[] = [];
  private state: State = 'connecting';
  private pool: Pool | undefined;
  private writing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retention: Promise<void> | undefined;
  private statusWrite: Promise<void> = Promise.resolve();
  private retryMs = firstRetryMs;
  private readonly secrets: string[];
  private readonly losses: LossReporter;
  private readonly opened: Promise<void>;

  constructor(
    private readonly settings: RequestLogSettings & { url: string },
    private readonly deps: { clock: Clock; logger: Logger; metrics: DetourMetrics; bodies?: BodySource | undefined },
  ) {
    this.location = redactDatabaseUrl(settings.url);
    this.secrets = databaseUrlSecrets(settings.url);
    this.losses = new LossReporter({ ...deps, location: this.location });
    this.opened = this.open();
  }

  get isAvailable(): boolean {
    return this.state === 'open';
  }

  ready(): Promise<void> {
    return this.opened;
  }

  record(outcome: RequestOutcome): void {
    if (this.state === 'closed') return;
    if (this.state === 'refused') return this.losses.lose(1, 'unavailable');
    if (this.queue.length >= this.settings.queueSize) return this.losses.lose(1, 'queue_full');
    const bodies = this.settings.logBodies ? (this.deps.bodies?.(outcome.requestId) ?? outcome.bodies()) : undefined;
    this.queue.push(toRecord(outcome, bodies));
    this.deps.metrics.requestLogQueue.set(this.queue.length);
    // While the database is down the queue only grows: the reconnection flushes it.
    if (this.state !== 'open') return;
    if (this.queue.length >= this.settings.batchSize) setImmediate(() => void this.flush());
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.settings.flushIntervalMs).unref();
  }

  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.writing) await this.writing;
    if (this.state !== 'open' || this.queue.length === 0) return;
    this.writing = this.writeQueue().finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  async query(filter: RequestFilter): Promise<RequestLogPage> {
    return await readPage(filter, (sql, params) => this.rows(toPositional(sql), params));
  }

  async trafficByTarget(from: number, stepMs: number): Promise<TrafficRow[]> {
    const rows = await this.rows(trafficByTargetPgSql, [stepMs, from]);
    return rows.map((row) => ({ bucket: Number(row.bucket), target: String(row.target), succeeded: Number(row.succeeded), failed: Number(row.failed) }));
  }

  saveStatusMinutes(rows: readonly StatusMinuteRow[]): void {
    if (rows.length === 0) return;
    this.pendingStatus.push(...rows);
    if (this.pendingStatus.length > maxPendingStatusRows) this.pendingStatus.splice(0, this.pendingStatus.length - maxPendingStatusRows);
    this.statusWrite = this.statusWrite.then(() => this.writeStatus());
  }

  async loadStatusMinutes(sinceMinute: number): Promise<StatusMinuteRow[]> {
    await this.opened;
    if (this.state !== 'open') return [];
    const rows = await this.rows(selectStatusMinutesPgSql, [sinceMinute]).catch((error: unknown) => {
      this.deps.logger.warn({ err: this.errorText(error) }, 'request log: status history not read');
      return [];
    });
    return rows.map((row) => ({ component: String(row.component), minute: Number(row.minute), healthyMs: Number(row.healthy_ms), degradedMs: Number(row.degraded_ms), downMs: Number(row.down_ms) }));
  }

  /** Age-based retention (`log.max_age_hours`); the database's size is its operator's to manage. Every instance may run it: deletes of the same rows are idempotent. */
  applyRetention(): Promise<void> {
    this.retention ??= this.retain().finally(() => {
      this.retention = undefined;
    });
    return this.retention;
  }

  /** Writes what is queued (trying once more to reach a database that is down), counts what could not be written, then disconnects. */
  async close(): Promise<void> {
    await this.opened;
    if (this.state === 'closed') return;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.retention;
    await this.flush();
    if (this.state === 'down' && (this.queue.length > 0 || this.pendingStatus.length > 0)) await this.connect();
    await this.flush();
    await this.statusWrite;
    if (this.pendingStatus.length > 0) await this.writeStatus();
    const left = this.queue.length;
    this.state = 'closed';
    this.queue = [];
    this.deps.metrics.requestLogQueue.set(0);
    if (left > 0) this.losses.loseAtExit(left);
    await this.pool?.end().catch(() => undefined);
  }

  private async open(): Promise<void> {
    try {
      const { default: pg } = await import('pg');
      // BIGINT and NUMERIC (counts, sums, epoch milliseconds) as numbers: every value the log holds fits a double.
      const types = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 || oid === 1700 ? Number : pg.types.getTypeParser(oid, format)) };
      const config: PoolConfig = {
        connectionString: this.settings.url,
        max: 4,
        connectionTimeoutMillis: 5000,
        idleTimeoutMillis: 30_000,
        query_timeout: 15_000,
        statement_timeout: 15_000,
        keepAlive: true,
        application_name: 'detour',
        types: types as PoolConfig['types'],
      };
      this.pool = new pg.Pool(config);
      // An idle connection the server closed: the next query opens another; a write that fails says so.
      this.pool.on('error', (error) => this.down(error));
    } catch (error) {
      this.refuse(error);
      return;
    }
    await this.connect();
  }

  /** Creates or checks the schema; open on success, down (retried) on a connection error. */
  private async connect(): Promise<void> {
    if (!this.pool || this.state === 'closed' || this.state === 'refused') return;
    try {
      await ensurePostgresSchema(this.pool);
    } catch (error) {
      if (error instanceof SchemaTooNewError) return this.refuse(error);
      return this.down(error);
    }
    const wasDown = this.state === 'down';
    this.state = 'open';
    this.retryMs = firstRetryMs;
    this.deps.metrics.requestLogUp.set(1);
    if (wasDown) this.deps.logger.warn({ location: this.location, queued: this.queue.length }, 'request log: the database is reachable again; queued records are being written');
    this.retentionTimer ??= setInterval(() => void this.applyRetention(), retentionEveryMs).unref();
    void this.applyRetention();
    if (this.pendingStatus.length > 0) this.statusWrite = this.statusWrite.then(() => this.writeStatus());
    void this.flush();
  }

  /** The database cannot be reached: records wait in the queue and the connection is retried with backoff. */
  private down(error: unknown): void {
    if (this.state === 'closed' || this.state === 'refused') return;
    const wasUp = this.state === 'open' || this.state === 'connecting';
    this.state = 'down';
    this.deps.metrics.requestLogUp.set(0);
    if (wasUp) {
      this.deps.logger.error(
        { err: this.errorText(error), location: this.location, queued: this.queue.length, queue_size: this.settings.queueSize },
        'request log: the database is unreachable; records are kept in memory up to log.queue_size and written once it is back, the rest counted in detour_request_log_dropped_total',
      );
    }
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.retryMs).unref();
    this.retryMs = Math.min(maxRetryMs, this.retryMs * 2);
  }

  /** A schema this version cannot use, or no driver: nothing is written until a restart, every record counted. */
  private refuse(error: unknown): void {
    this.state = 'refused';
    this.deps.metrics.requestLogUp.set(0);
    const left = this.queue.length;
    this.queue = [];
    this.deps.metrics.requestLogQueue.set(0);
    this.losses.lose(left, 'unavailable');
    this.deps.logger.error({ err: this.errorText(error), location: this.location }, 'request log: cannot use the database; requests go on unlogged and are counted in detour_request_log_dropped_total');
  }

  private async writeQueue(): Promise<void> {
    while (this.queue.length > 0 && this.state === 'open') {
      // Under a backlog the batches grow, as in the SQLite log, so that writing catches up with a burst.
      const size = this.queue.length > this.settings.batchSize ? Math.min(this.queue.length, Math.max(this.settings.batchSize, backlogBatch)) : this.settings.batchSize;
      const batch = this.queue.splice(0, size);
      this.deps.metrics.requestLogQueue.set(this.queue.length);
      await this.write(batch);
    }
  }

  private async write(batch: ParentChildRecord[]): Promise<void> {
    try {
      await this.insert(batch);
      this.deps.metrics.requestLogWritten.inc(batch.length);
      if (this.queue.length === 0) this.losses.recovered();
    } catch (error) {
      if (isConnectionError(error)) {
        // Not written (or not known to be): back to the front of the queue, for the reconnection to write.
        this.requeue(batch);
        this.down(error);
      } else {
        await this.writeEach(batch, error);
      }
    }
  }

  /** A batch the database refused (a value it cannot store): each record alone, so that only the bad ones are lost. */
  private async writeEach(batch: ParentChildRecord[], batchError: unknown): Promise<void> {
    let failed = 0;
    for (const [index, record] of batch.entries()) {
      try {
        await this.insert([record]);
        this.deps.metrics.requestLogWritten.inc();
      } catch (error) {
        if (isConnectionError(error)) {
          this.requeue(batch.slice(index));
          this.down(error);
          break;
        }
        failed++;
      }
    }
    if (failed > 0) this.losses.lose(failed, 'write_failed', this.errorText(batchError));
  }

  private requeue(records: ParentChildRecord[]): void {
    this.queue = records.concat(this.queue);
    const excess = this.queue.length - this.settings.queueSize;
    if (excess > 0) {
      this.queue.splice(this.settings.queueSize);
      this.losses.lose(excess, 'queue_full');
    }
    this.deps.metrics.requestLogQueue.set(this.queue.length);
  }

  private async insert(batch: readonly ParentChildRecord[]): Promise<void> {
    const client = await this.requirePool().connect();
    const release = guardCheckedOut(client);
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const reserved = reserveSeqsSql(batch.length);
      const seqs = (await client.query<{ seq: number }>(reserved.text, reserved.values)).rows.map((row) => Number(row.seq)).sort((a, b) => a - b);
      for (const statement of insertBatchSql(batch, seqs)) await client.query(statement.text, statement.values);
      await client.query('COMMIT');
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      await rollback(client);
      throw error;
    } finally {
      // A connection that failed is discarded, not handed to the next query.
      release(failure !== undefined && isConnectionError(failure) ? failure : undefined);
    }
  }

  private async writeStatus(): Promise<void> {
    if (this.state !== 'open' || this.pendingStatus.length === 0) return;
    const rows = this.pendingStatus.splice(0);
    try {
      const statement = upsertStatusMinutesPgSql(rows);
      await this.requirePool().query(statement.text, statement.values);
    } catch (error) {
      if (isConnectionError(error)) {
        this.pendingStatus.unshift(...rows);
        this.down(error);
      } else {
        this.deps.logger.warn({ err: this.errorText(error) }, 'request log: status history not saved');
      }
    }
  }

  private async retain(): Promise<void> {
    if (this.state !== 'open') return;
    try {
      const now = this.deps.clock.now();
      await this.requirePool().query(deleteStatusMinutesPgSql, [Math.floor((now - statusRetentionMs) / 60_000)]);
      const cutoff = now - this.settings.maxAgeMs;
      while (this.state === 'open' && ((await this.requirePool().query(deleteOldRequestsPgSql, [cutoff, deleteChunk])).rowCount ?? 0) === deleteChunk);
    } catch (error) {
      this.deps.logger.warn({ err: this.errorText(error) }, 'request log: retention failed; it will be tried again');
    }
  }

  /** A read for the admin API: a lost connection marks the log down (and is retried); the error never holds the password. */
  private async rows(sql: string, params: SqlValue[]): Promise<Array<Record<string, unknown>>> {
    if (this.state !== 'open') throw new Error('the request log database is not reachable');
    try {
      return (await this.requirePool().query(sql, params)).rows as Array<Record<string, unknown>>;
    } catch (error) {
      if (isConnectionError(error)) this.down(error);
      throw new Error(this.errorText(error));
    }
  }

  private requirePool(): Pool {
    if (!this.pool) throw new Error('the request log database is not open');
    return this.pool;
  }

  private errorText(error: unknown): string {
    return redactSecrets(error instanceof Error ? error.message : String(error), this.secrets);
  }
}

async function rollback(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch {
    // The connection is gone: so is the transaction.
  }
}
