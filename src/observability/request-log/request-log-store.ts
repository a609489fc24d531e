import type { RequestOutcome } from '../outcome.js';
import type { StatusHistoryStore } from '../status/status-history.js';
import type { TrafficRow } from '../traffic-series.js';
import type { LoggedBodies } from './log-schema.js';
import type { LoggedRequest, RequestFilter } from './log-query.js';

export interface RequestLogPage {
  data: LoggedRequest[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** Supplies prompt and completion text for `log.bodies: true` in place of the engine's own (tests, custom redaction). */
export type BodySource = (requestId: string) => LoggedBodies | undefined;

/** Where the request log lives: a local SQLite file (one instance), or a PostgreSQL database a cluster shares. */
export type RequestLogBackend = 'sqlite' | 'postgres';

/**
 * The request log as the rest of Detour sees it: the admin API, the dashboard and the status page
 * read it through this, without knowing where it is kept. Both stores hold the same columns and
 * answer the same queries; both queue records off the request path, write them in batches, and
 * count every record they lose in `detour_request_log_dropped_total{reason}`.
 */
export interface RequestLogStore extends StatusHistoryStore {
  readonly backend: RequestLogBackend;
  /** Where the log is, safe to print: a file path, or the database URL with its password redacted. */
  readonly location: string;
  /** Whether queries can be answered now (a shared database may be down for a while). */
  readonly isAvailable: boolean;
  /** Resolves once the first attempt to open the log has finished, either way; never rejects. */
  ready(): Promise<void>;
  /** Queues one outcome; cheap, never throws, never waits. */
  record(outcome: RequestOutcome): void;
  /** Writes what is queued now; resolves when it is written, lost, or left queued for a database that is down. */
  flush(): Promise<void>;
  /** A page of requests, newest first, with their attempts. */
  query(filter: RequestFilter): Promise<RequestLogPage>;
  /** Requests since `from` per `stepMs` bucket and serving target: the dashboard's traffic chart. */
  trafficByTarget(from: number, stepMs: number): Promise<TrafficRow[]>;
  /** Deletes what is past the retention limits. */
  applyRetention(): Promise<void>;
  /** Flushes (within a bounded time), then releases the store. */
  close(): Promise<void>;
}
