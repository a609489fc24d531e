import type { AlertType } from '../settings.js';

export type Severity = 'critical' | 'warning';

/**
 * One problem as operators see it: one incident per failing target, per route that cannot
 * answer, per burning SLO. Everything that happens while it lasts (more failovers, the circuit
 * opening, a health check failing) updates it rather than raising another.
 */
export interface Incident {
  /** Dedupe key: `target_down:<target>`, `region_down:<region>`, `all_targets_failed:<route>`, `slo_burn:<route>:<objective>:<speed>`. */
  key: string;
  type: AlertType;
  severity: Severity;
  /** One line: what failed. */
  title: string;
  route?: string | undefined;
  target?: string | undefined;
  /** A regional incident's region: every target there is failing. */
  region?: string | undefined;
  /** Per route, the target that serves while this lasts. */
  servingTargets: Record<string, string>;
  /** The latest error code and message (secrets removed). */
  error?: string | undefined;
  startedAt: number;
  lastSeenAt: number;
  /** Recent notes ("circuit opened", "health check: unhealthy"), newest last, bounded. */
  notes: Array<{ at: number; text: string }>;
  /** Public-safe one-liner for the status page: no target ids, no errors. */
  publicSummary: string;
  /** Routes and providers it affects, for the status page. */
  affects: { routes: string[]; providers: string[] };
}

/** What a sink is told: an incident starting or ending. */
export interface AlertMessage {
  state: 'firing' | 'resolved';
  incident: Incident;
  /** Epoch ms. */
  at: number;
}

/** What a detector reports; the manager turns it into an incident or an update of one. */
export interface IncidentSignal {
  key: string;
  type: AlertType;
  severity: Severity;
  title: string;
  route?: string | undefined;
  target?: string | undefined;
  region?: string | undefined;
  servingTarget?: { route: string; target: string } | undefined;
  error?: string | undefined;
  note?: string | undefined;
  publicSummary: string;
  affects: { routes: string[]; providers: string[] };
}
