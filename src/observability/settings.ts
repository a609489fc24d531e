import type { ModelPrice } from '../core/model-catalog.js';

/**
 * What the observability side channel runs from. The server maps the YAML config onto these;
 * nothing here reads YAML or the environment.
 */

export interface RequestLogSettings {
  isEnabled: boolean;
  /** The SQLite file; created with its folder if missing. */
  path: string;
  /** A PostgreSQL URL (`postgres://…`): the log lives there, shared by every instance, and `path` is not used. */
  url?: string | undefined;
  /** Store prompts and completions too (off unless the config asks). */
  logBodies: boolean;
  /** Records older than this are deleted. */
  maxAgeMs: number;
  /** The file is kept under this size by deleting the oldest records. */
  maxSizeBytes: number;
  /** Records waiting to be written; beyond this, new records are dropped and counted. */
  queueSize: number;
  /** Records written per transaction. */
  batchSize: number;
  /** The longest a record waits before its batch is written. */
  flushIntervalMs: number;
}

export const disabledRequestLog: RequestLogSettings = {
  isEnabled: false,
  path: '',
  logBodies: false,
  maxAgeMs: 7 * 24 * 3_600_000,
  maxSizeBytes: 1024 * 1024 * 1024,
  queueSize: 50_000,
  batchSize: 1000,
  flushIntervalMs: 500,
};

/** Kinds of alert a sink may subscribe to. */
export type AlertType = 'target_down' | 'region_down' | 'all_targets_failed' | 'slo_burn' | 'key_budget';

export const alertTypes: readonly AlertType[] = ['target_down', 'region_down', 'all_targets_failed', 'slo_burn', 'key_budget'];

interface SinkCommon {
  /** Shown in metrics and logs instead of the URL, which often holds a secret token. */
  name: string;
  url: string;
  /** Only these kinds; all when absent. */
  types?: readonly AlertType[] | undefined;
}

export type AlertSinkSettings = (SinkCommon & { type: 'webhook'; headers: Readonly<Record<string, string>> }) | (SinkCommon & { type: 'slack' });

export interface AlertSettings {
  sinks: readonly AlertSinkSettings[];
  /** A problem must stay gone this long before its recovery is announced; a relapse inside it is the same incident. */
  resolveAfterMs: number;
  /** Failovers away from a target within a minute before it is reported down (an open circuit reports at once). */
  minFailovers: number;
  /** New incidents announced per sink per minute; recoveries of announced incidents always go. */
  maxPerMinute: number;
  /** Delivery attempts per alert, the first included. */
  deliveryAttempts: number;
  deliveryBackoffMs: number;
  deliveryTimeoutMs: number;
}

export const defaultAlertSettings: AlertSettings = {
  sinks: [],
  resolveAfterMs: 60_000,
  minFailovers: 3,
  maxPerMinute: 10,
  deliveryAttempts: 5,
  deliveryBackoffMs: 1000,
  deliveryTimeoutMs: 5000,
};

/** A route's objectives. */
export interface SloSettings {
  route: string;
  /** Share of requests that must succeed, in (0, 1). */
  successRate?: number | undefined;
  /** 95 % of successful requests must finish within this. */
  p95Ms?: number | undefined;
  /** Requests in the long window before a burn rate is trusted. */
  minRequests: number;
}

export interface ObservabilitySettings {
  requestLog: RequestLogSettings;
  alerts: AlertSettings;
  slos: readonly SloSettings[];
  /** Price overrides by model name (prefix-matched like the built-in table). */
  prices: Readonly<Record<string, Partial<ModelPrice>>>;
  /** Strings that must never leave the process (upstream keys, client keys, the admin token). */
  secrets: readonly string[];
}
