import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../logger.js';
import type { DetourMetrics } from '../metrics/metrics.js';
import type { RequestOutcome } from '../outcome.js';
import type { RequestLogSettings } from '../settings.js';
import type { RequestFilter } from './log-query.js';
import { readPage } from './log-page.js';
import type { TrafficRow } from '../traffic-series.js';
import { addColumns, trafficByTargetSql, deleteStatusMinutesSql, insertAttemptSql, insertRequestSql, openPragmas, schemaSql, selectStatusMinutesSql, statusRetentionMs, toRecord, upsertStatusMinutesSql } from './log-schema.js';
import { acquireLogLock, RequestLogInUseError, type LogLock } from './log-lock.js';
import type { StatusMinuteRow } from '../status/status-history.js';
import { encodeRecord, SqliteWorker } from './sqlite-worker.js';
import { RowQueue, type RowChunk } from './row-queue.js';
import type { BodySource, RequestLogPage, RequestLogStore } from './request-log-store.js';

export type { BodySource, RequestLogPage } from './request-log-store.js';

const retentionEveryMs = 60_000;
/** A loss is logged once per episode, and episodes at most this often. */
const reportEveryMs = 300_000;
/** Largest batch written in one transaction while records are backed up. */
const backlogBatch = 5000;
/** Rows deleted per statement, so that retention never holds the database for long. */
const deleteChunk = 5000;

type State = 'opening' | 'open' | 'unavailable' | 'closed';

/**
 * The request log: every finished request, with its attempts, in an SQLite file. Records are
 * queued and written in batches by a worker thread, so a slow or failing disk never holds a
 * request. When the queue is full or the disk fails, records are dropped, counted in
 * `detour_request_log_dropped_total`, and the failure is logged once (and its recovery once).
 */
export class RequestLog implements RequestLogStore {
  readonly backend = 'sqlite' as const;
  private readonly queue: RowQueue;
  private state: State = 'opening';
  private worker: SqliteWorker | undefined;
  private writing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retention: Promise<void> | undefined;
  private queuedRetention: Promise<void> | undefined;
  private lostSinceReport = 0;
  private statusWrite: Promise<void> | undefined;
  private isFailureReported = false;
  private lastReportAt = -Infinity;
  private readonly opened: Promise<void>;
  private lock: LogLock | undefined;

  /** Throws `RequestLogInUseError` when another running instance has the same file open. */
  constructor(
    private readonly settings: RequestLogSettings,
    private readonly deps: { clock: Clock; logger: Logger; metrics: DetourMetrics; bodies?: BodySource | undefined },
  ) {
    this.queue = new RowQueue(settings.batchSize);
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      this.lock = acquireLogLock(this.path);
    } catch (error) {
      // Another instance's file stops the start; a disk that cannot be written only stops the log.
      if (error instanceof RequestLogInUseError) throw error;
    }
    this.opened = this.open();
  }

  /** The file's absolute path. */
  get path(): string {
    return resolve(this.settings.path);
  }

  get location(): string {
    return this.path;
  }

  /** Resolves once the file is open (or known to be unusable); never rejects. */
  ready(): Promise<void> {
    return this.opened;
  }

  get isAvailable(): boolean {
    return this.state === 'open' || this.state === 'opening';
  }

  /** Queues one outcome; cheap, never throws, never waits. */
  record(outcome: RequestOutcome): void {
    if (this.state === 'closed') return;
    if (this.state === 'unavailable') return this.lose(1, 'unavailable');
    if (this.queue.length >= this.settings.queueSize) return this.lose(1, 'queue_full');
    const bodies = this.settings.logBodies ? (this.deps.bodies?.(outcome.requestId) ?? outcome.bodies()) : undefined;
    this.queue.push(encodeRecord(toRecord(outcome, bodies)));
    this.deps.metrics.requestLogQueue.set(this.queue.length);
    if (this.queue.length >= this.settings.batchSize) setImmediate(() => void this.flush());
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.settings.flushIntervalMs).unref();
  }

  /** Writes what is queued now; resolves when it is written (or lost). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    // One writer at a time: a flush during a write waits for it, then writes what is left.
    while (this.writing) await this.writing;
    if (this.state !== 'open' || this.queue.length === 0) return;
    this.writing = this.writeQueue().finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  private async writeQueue(): Promise<void> {
    while (this.queue.length > 0 && this.state === 'open') {
      // Under a backlog the batches grow: one transaction per 5,000 rows outruns any burst, where the old default of 200 at a time fell behind.
      const batch = this.queue.take(Math.max(this.settings.batchSize, backlogBatch));
      this.deps.metrics.requestLogQueue.set(this.queue.length);
      await this.write(batch);
    }
  }

  async query(filter: RequestFilter): Promise<RequestLogPage> {
    const worker = this.requireWorker();
    return await readPage(filter, async (sql, params) => (await worker.call({ op: 'all', sql, params })) as Array<Record<string, unknown>>);
  }

  /** Adds finished status minutes to the history (once a minute, off the request path); a failure is logged, not thrown. */
  saveStatusMinutes(rows: readonly StatusMinuteRow[]): void {
    if (rows.length === 0) return;
    const write = async (): Promise<void> => {
      await this.opened;
      if (this.state !== 'open') return;
      const params = rows.flatMap((row) => [row.component, row.minute, Math.round(row.healthyMs), Math.round(row.degradedMs), Math.round(row.downMs)]);
      await this.requireWorker().call({ op: 'run', sql: upsertStatusMinutesSql(rows.length), params });
    };
    const saving = (this.statusWrite ?? Promise.resolve()).then(write).catch((error: unknown) => this.deps.logger.warn({ err: errorText(error) }, 'request log: status history not saved'));
    this.statusWrite = saving;
  }

  /** Requests since `from` per `stepMs` bucket and serving target: the dashboard's traffic chart over any range it keeps. */
  async trafficByTarget(from: number, stepMs: number): Promise<TrafficRow[]> {
    const worker = this.requireWorker();
    const rows = (await worker.call({ op: 'all', sql: trafficByTargetSql, params: [stepMs, from] })) as Array<Record<string, unknown>>;
    return rows.map((row) => ({ bucket: Number(row.bucket), target: String(row.target), succeeded: Number(row.succeeded), failed: Number(row.failed) }));
  }

  /** The status history kept since `sinceMinute`; empty when the log is not available. */
  async loadStatusMinutes(sinceMinute: number): Promise<StatusMinuteRow[]> {
    await this.opened;
    if (this.state !== 'open') return [];
    const rows = (await this.requireWorker().call({ op: 'all', sql: selectStatusMinutesSql, params: [sinceMinute] })) as Array<Record<string, unknown>>;
    return rows.map((row) => ({ component: String(row.component), minute: Number(row.minute), healthyMs: Number(row.healthy_ms), degradedMs: Number(row.degraded_ms), downMs: Number(row.down_ms) }));
  }

  /** Deletes records past the age limit, then the oldest until the file fits its size limit. */
  applyRetention(): Promise<void> {
    // One run at a time; a call during a run queues one more, which every later caller shares.
    this.queuedRetention ??= (this.retention ?? Promise.resolve()).then(async () => {
      this.queuedRetention = undefined;
      const run = this.retain();
      this.retention = run;
      try {
        await run;
      } finally {
        if (this.retention === run) this.retention = undefined;
      }
    });
    return this.queuedRetention;
  }

  async close(): Promise<void> {
    await this.opened;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.queuedRetention;
    await this.retention;
    await this.flush();
    await this.statusWrite;
    this.state = 'closed';
    if (this.worker) {
      await this.worker.call({ op: 'close' }).catch(() => undefined);
      await this.worker.terminate();
    }
    this.lock?.release();
  }

  private async open(): Promise<void> {
    const path = this.path;
    try {
      this.worker = new SqliteWorker((error) => this.fail('the request log worker stopped', error));
      await this.worker.call({ op: 'open', path, pragmas: openPragmas, schema: schemaSql, addColumns });
    } catch (error) {
      this.fail(`cannot open the request log at ${path}`, error);
      return;
    }
    if (this.state !== 'opening') return;
    this.state = 'open';
    this.deps.metrics.requestLogUp.set(1);
    this.retentionTimer = setInterval(() => void this.applyRetention(), retentionEveryMs).unref();
    void this.applyRetention();
    void this.flush();
  }

  private async write(batch: RowChunk[]): Promise<void> {
    let rows = 0;
    for (const chunk of batch) rows += chunk.rows;
    try {
      await this.requireWorker().call(
        { op: 'write', parentSql: insertRequestSql, childSql: insertAttemptSql, chunks: batch.map((chunk) => chunk.bytes.buffer), lengths: batch.map((chunk) => chunk.length) },
        batch.map((chunk) => chunk.bytes.buffer),
      );
      this.deps.metrics.requestLogWritten.inc(rows);
      // Recovered once the backlog is gone, so that a sustained overload is not reported as flapping.
      if (this.isFailureReported && this.queue.length === 0) {
        this.deps.logger.warn({ lost: this.lostSinceReport }, 'request log: writes recovered');
        this.isFailureReported = false;
        this.lostSinceReport = 0;
      }
    } catch (error) {
      this.lose(rows, 'write_failed', error);
    }
  }

  private async retain(): Promise<void> {
    if (this.state !== 'open') return;
    const worker = this.requireWorker();
    try {
      const now = this.deps.clock.now();
      await worker.call({ op: 'run', sql: deleteStatusMinutesSql, params: [Math.floor((now - statusRetentionMs) / 60_000)] });
      const cutoff = now - this.settings.maxAgeMs;
      while ((await worker.call({ op: 'run', sql: 'DELETE FROM requests WHERE seq IN (SELECT seq FROM requests WHERE started_at < ? LIMIT ?)', params: [cutoff, deleteChunk] })) === deleteChunk);
      for (let round = 0; round < 20 && (await this.sizeBytes()) > this.settings.maxSizeBytes; round++) {
        // A tenth of the rows at a time: the size is only known once the pages are freed.
        const [row] = (await worker.call({ op: 'all', sql: 'SELECT count(*) AS count FROM requests', params: [] })) as Array<{ count: number }>;
        const count = Math.max(1, Math.ceil((row?.count ?? 0) / 10));
        const deleted = await worker.call({ op: 'run', sql: 'DELETE FROM requests WHERE seq IN (SELECT seq FROM requests ORDER BY seq LIMIT ?)', params: [count] });
        await worker.call({ op: 'pragma', sql: 'incremental_vacuum' });
        if (deleted === 0) break;
      }
      await worker.call({ op: 'pragma', sql: 'wal_checkpoint(TRUNCATE)' });
    } catch (error) {
      this.deps.logger.warn({ err: errorText(error) }, 'request log: retention failed; it will be tried again');
    }
  }

  private async sizeBytes(): Promise<number> {
    const rows = (await this.requireWorker().call({
      op: 'all',
      sql: 'SELECT (p.page_count - f.freelist_count) * s.page_size AS bytes FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s',
      params: [],
    })) as Array<{ bytes: number }>;
    return rows[0]?.bytes ?? 0;
  }

  private requireWorker(): SqliteWorker {
    if (!this.worker || this.state !== 'open') throw new Error('the request log is not available');
    return this.worker;
  }

  private fail(message: string, error: unknown): void {
    if (this.state === 'closed' || this.state === 'unavailable') return;
    this.state = 'unavailable';
    this.deps.metrics.requestLogUp.set(0);
    this.lose(this.queue.clear(), 'unavailable');
    this.deps.metrics.requestLogQueue.set(0);
    this.deps.logger.error({ err: errorText(error), path: this.settings.path }, `${message}; requests go on unlogged and are counted in detour_request_log_dropped_total`);
    this.isFailureReported = true;
    this.lastReportAt = this.deps.clock.now();
  }

  private lose(count: number, reason: 'queue_full' | 'write_failed' | 'unavailable', error?: unknown): void {
    if (count === 0) return;
    this.deps.metrics.requestLogDropped.inc({ reason }, count);
    this.lostSinceReport += count;
    const now = this.deps.clock.now();
    if (this.isFailureReported || now - this.lastReportAt < reportEveryMs) return;
    this.isFailureReported = true;
    this.lastReportAt = now;
    const why = reason === 'queue_full' ? 'its queue is full (the disk is slower than the traffic)' : `a write failed: ${errorText(error)}`;
    this.deps.logger.error({ reason, path: this.settings.path }, `request log: records are being lost because ${why}; requests go on, losses are counted in detour_request_log_dropped_total`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
