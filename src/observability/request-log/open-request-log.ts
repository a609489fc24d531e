import type { Clock } from '../../core/clock.js';
import type { Logger } from '../logger.js';
import type { DetourMetrics } from '../metrics/metrics.js';
import type { RequestLogSettings } from '../settings.js';
import { PostgresRequestLog } from './postgres-request-log.js';
import { RequestLog } from './request-log.js';
import type { BodySource, RequestLogStore } from './request-log-store.js';

/** The request log the settings ask for: PostgreSQL when `url` is set (shared by a cluster), else the SQLite file at `path`. */
export function openRequestLog(settings: RequestLogSettings, deps: { clock: Clock; logger: Logger; metrics: DetourMetrics; bodies?: BodySource | undefined }): RequestLogStore {
  const url = settings.url;
  return url !== undefined ? new PostgresRequestLog({ ...settings, url }, deps) : new RequestLog(settings, deps);
}
