import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import { AlertDelivery, type AlertPoster } from './alerts/alert-delivery.js';
import { plainSummary } from './alerts/alert-format.js';
import type { AlertMessage, Incident } from './alerts/incident.js';
import { IncidentDetector } from './alerts/incident-detector.js';
import { IncidentManager } from './alerts/incident-manager.js';
import { CostCalculator } from './cost.js';
import { EventFeed } from './event-feed.js';
import type { Logger } from './logger.js';
import { recordOutcomeMetrics, trackProbeAndMirrorMetrics, trackTargetMetrics } from './metrics/metrics-recorder.js';
import { DetourMetrics } from './metrics/metrics.js';
import { OutcomePipeline } from './outcome-pipeline.js';
import type { RequestOutcome } from './outcome.js';
import { RecentRequests } from './recent-requests.js';
import { openRequestLog } from './request-log/open-request-log.js';
import type { BodySource, RequestLogStore } from './request-log/request-log-store.js';
import { logRequests } from './request-logging.js';
import type { ObservabilitySettings } from './settings.js';
import { alertTypes } from './settings.js';
import { SloMonitor } from './slo/slo-monitor.js';
import { LabelBounds } from './label-bounds.js';
import { StatsTracker } from './stats/stats-tracker.js';
import { StatusBoard } from './status/status-board.js';
import { TargetStateView, type TargetStateSource } from './target-state.js';
import type { Topology } from './topology.js';

export interface ObservabilityDeps {
  events: EventBus;
  topology: Topology;
  clock: Clock;
  logger: Logger;
  /** Removes secrets from text that may reach an alert or the dashboard. */
  redact: (text: string) => string;
  /** Live circuit, latency and in-flight state, when the engine offers it. */
  targetState?: TargetStateSource | undefined;
  bodies?: BodySource | undefined;
  /** Off in tests that run many gateways in one process. */
  processMetrics?: boolean | undefined;
  alertPoster?: AlertPoster | undefined;
  /** Timers (the ticker) are off when tests drive `tick()` with a manual clock. */
  isTickerEnabled?: boolean | undefined;
}

const sloEveryMs = 15_000;
/** The longest error message kept per request: an upstream's error text can be long. */
const maxMessageLength = 1000;

function boundedMessage(message: string): string {
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message;
}
/** Status is sampled every tick: a 20 s outage must count as 20 s, not as one 10 s sample or three. */
const statusEveryMs = 1000;

/**
 * Everything an operator sees, fed by the engine's events and never on the request path:
 * Prometheus metrics, the request log, sliding-window statistics, SLO burn rates, incidents and
 * their alerts, the live event feed and the status board.
 */
export class Observability {
  readonly metrics: DetourMetrics;
  readonly stats: StatsTracker;
  readonly recent = new RecentRequests();
  readonly feed: EventFeed;
  readonly targets: TargetStateView;
  readonly incidents: IncidentManager;
  readonly slo: SloMonitor;
  readonly status: StatusBoard;
  readonly requestLog: RequestLogStore | undefined;
  private readonly delivery: AlertDelivery;
  private readonly pipeline: OutcomePipeline;
  private readonly detector: IncidentDetector;
  private readonly stops: Array<() => void> = [];
  private readonly ticker: NodeJS.Timeout | undefined;
  private lastSloAt = -Infinity;
  private lastStatusAt = -Infinity;
  /** Resolves once the stored status history has been read (at once without a request log). */
  readonly statusLoaded: Promise<void>;

  constructor(
    readonly settings: ObservabilitySettings,
    private readonly deps: ObservabilityDeps,
  ) {
    const { events, clock, logger } = deps;
    this.metrics = new DetourMetrics({ processMetrics: deps.processMetrics });
    // First: it throws when another instance holds the file, and nothing else is subscribed yet.
    this.requestLog = settings.requestLog.isEnabled ? openRequestLog(settings.requestLog, { clock, logger, metrics: this.metrics, bodies: deps.bodies }) : undefined;
    this.stats = new StatsTracker(clock);
    this.feed = new EventFeed(events, clock);
    this.targets = new TargetStateView(deps.topology, events, clock, deps.targetState);
    this.incidents = new IncidentManager(clock, settings.alerts.resolveAfterMs);
    this.detector = new IncidentDetector(events, { clock, topology: deps.topology, incidents: this.incidents, minFailovers: settings.alerts.minFailovers, redact: deps.redact });
    this.slo = new SloMonitor(settings.slos, { clock, incidents: this.incidents, metrics: this.metrics });
    this.delivery = new AlertDelivery(settings.alerts, { clock, logger, metrics: this.metrics, post: deps.alertPoster });
    // The status history lives in the request log's database, so that a restart keeps it.
    this.status = new StatusBoard(deps.topology, { clock, targets: this.targets, stats: this.stats, incidents: this.incidents, store: this.requestLog });
    this.statusLoaded = this.status.history.load(clock.now());

    this.incidents.onMessage((message) => this.onAlert(message));
    const cost = new CostCalculator(settings.prices);
    this.pipeline = new OutcomePipeline(events, cost, logger, () => this.metrics.observabilityDropped.inc());
    const bounds = new LabelBounds(deps.topology);
    this.pipeline.add((outcome) => {
      const bounded = bounds.outcome(outcome);
      recordOutcomeMetrics(this.metrics, bounded, (target) => bounds.regionOf(target));
      this.stats.record(bounded);
    });
    // What operators read of a failure's message (the dashboard, the request log) is redacted and bounded once.
    const shown = (outcome: RequestOutcome): RequestOutcome => (outcome.errorMessage === undefined ? outcome : { ...outcome, errorMessage: boundedMessage(deps.redact(outcome.errorMessage)) });
    this.pipeline.add((outcome) => this.recent.record(shown(outcome)));
    this.pipeline.add((outcome) => this.slo.record(outcome));
    this.pipeline.add((outcome) => this.detector.recordOutcome(outcome));
    this.pipeline.add((outcome) => this.feed.recordOutcome(outcome));
    if (this.requestLog) {
      const log = this.requestLog;
      this.pipeline.add((outcome) => log.record(shown(outcome)));
    }
    this.stops.push(trackTargetMetrics(this.metrics, this.targets, events, bounds), trackProbeAndMirrorMetrics(this.metrics, events, cost), logRequests(events, logger, deps.redact));
    if (deps.isTickerEnabled ?? true) this.ticker = setInterval(() => this.tick(), 1000).unref();
  }

  /** Periodic work: folded feed events, incident hold-downs, SLO evaluation, status samples. */
  tick(): void {
    const now = this.deps.clock.now();
    this.feed.tick();
    if (now - this.lastSloAt >= sloEveryMs) {
      this.lastSloAt = now;
      this.slo.evaluate();
    }
    this.incidents.tick();
    if (now - this.lastStatusAt >= statusEveryMs) {
      this.lastStatusAt = now;
      this.status.sample();
    }
  }

  /** Processes everything queued now: finished requests, the request log, alert deliveries (tests, shutdown). */
  async flush(): Promise<void> {
    this.pipeline.drain();
    await this.requestLog?.flush();
    await this.delivery.settled();
  }

  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await this.statusLoaded;
    this.status.history.flush();
    this.pipeline.close();
    for (const stop of this.stops.splice(0)) stop();
    this.detector.close();
    this.targets.close();
    this.feed.close();
    await this.requestLog?.close();
  }

  /**
   * A client key's budget reached 80 % or 100 % in its period: a warning (critical when spent)
   * to the alert sinks, the event feed and the log. The key layer raises each once per period.
   */
  budgetAlert(alert: { keyName: string; threshold: number; spentUsd: number; budgetUsd: number; periodEnd: number }): void {
    const now = this.deps.clock.now();
    const percent = Math.round(alert.threshold * 100);
    const title = `Client key "${alert.keyName}" has used ${percent}% of its budget ($${alert.spentUsd.toFixed(4)} of $${alert.budgetUsd}); it resets at ${new Date(alert.periodEnd).toISOString()}`;
    const incident: Incident = {
      key: `key_budget:${alert.keyName}:${percent}`,
      type: 'key_budget',
      severity: alert.threshold >= 1 ? 'critical' : 'warning',
      title,
      servingTargets: {},
      startedAt: now,
      lastSeenAt: now,
      notes: [],
      publicSummary: '',
      affects: { routes: [], providers: [] },
    };
    this.metrics.budgetAlerts.inc({ client_key: alert.keyName, threshold: String(alert.threshold) });
    this.feed.push({ type: 'incident', severity: incident.severity, message: title, data: { state: 'firing', key: incident.key, kind: 'key_budget', client_key: alert.keyName } });
    this.delivery.deliver({ state: 'firing', incident, at: now });
    this.deps.logger.warn({ client_key: alert.keyName, threshold: alert.threshold, spent_usd: alert.spentUsd, budget_usd: alert.budgetUsd }, `budget alert: ${title}`);
  }

  private onAlert(message: AlertMessage): void {
    const incident = message.incident;
    for (const type of alertTypes) this.metrics.incidentsActive.set({ type }, this.incidents.incidents().filter((open) => open.type === type).length);
    this.feed.push({
      type: 'incident',
      severity: message.state === 'resolved' ? 'info' : incident.severity,
      message: plainSummary(message),
      route: incident.route,
      target: incident.target,
      data: { state: message.state, key: incident.key, kind: incident.type },
    });
    this.delivery.deliver(message);
    const log = { key: incident.key, type: incident.type, severity: incident.severity, startedAt: incident.startedAt };
    if (message.state === 'firing') this.deps.logger.warn(log, `incident: ${incident.title}`);
    else this.deps.logger.info(log, `incident resolved: ${incident.title}`);
  }
}
