import type { Clock } from '../../core/clock.js';
import type { Logger } from '../logger.js';
import type { DetourMetrics } from '../metrics/metrics.js';

export type LossReason = 'queue_full' | 'write_failed' | 'unavailable';

/** A loss is logged once per episode, and episodes at most this often. */
const reportEveryMs = 300_000;

/**
 * The request log's never-silent-loss policy: every record lost is counted in
 * `detour_request_log_dropped_total{reason}`, and each episode of losses is logged once (and its
 * end once), so that a sustained overload neither floods the log nor goes unnoticed.
 */
export class LossReporter {
  private lostSinceReport = 0;
  private isReported = false;
  private lastReportAt = -Infinity;

  constructor(private readonly deps: { clock: Clock; logger: Logger; metrics: DetourMetrics; location: string }) {}

  lose(count: number, reason: LossReason, errorText?: string): void {
    if (count === 0) return;
    this.deps.metrics.requestLogDropped.inc({ reason }, count);
    this.lostSinceReport += count;
    const now = this.deps.clock.now();
    if (this.isReported || now - this.lastReportAt < reportEveryMs) return;
    this.isReported = true;
    this.lastReportAt = now;
    const why = {
      queue_full: 'its queue is full (the database is slower than the traffic, or unreachable for longer than log.queue_size records last)',
      write_failed: `the database refused them: ${errorText ?? 'unknown error'}`,
      unavailable: 'the database cannot be used',
    }[reason];
    this.deps.logger.error({ reason, location: this.deps.location }, `request log: records are being lost because ${why}; requests go on, losses are counted in detour_request_log_dropped_total`);
  }

  /** The backlog is written: the episode is over. */
  recovered(): void {
    if (!this.isReported) return;
    this.deps.logger.warn({ lost: this.lostSinceReport, location: this.deps.location }, 'request log: writes recovered');
    this.isReported = false;
    this.lostSinceReport = 0;
  }

  /** Records still queued when the process exits: always logged, whatever was reported before. */
  loseAtExit(count: number): void {
    this.deps.metrics.requestLogDropped.inc({ reason: 'unavailable' }, count);
    this.deps.logger.error({ lost: count, location: this.deps.location }, `request log: ${count} record(s) could not be written before exit (the database was unreachable); counted in detour_request_log_dropped_total`);
  }
}
