import { providerKeys } from '../config/runtime.js';
import type { DetourConfig } from '../config/schema.js';
import type { RouteTable } from '../engine/route-table.js';
import type { AlertSinkSettings, ObservabilitySettings } from '../observability/settings.js';
import type { Topology } from '../observability/topology.js';
import { databaseUrlSecrets } from '../observability/request-log/database-url.js';

const hourMs = 3_600_000;

/** Maps the YAML's snake_case observability keys onto the observability settings. */
export function toObservabilitySettings(config: DetourConfig): ObservabilitySettings {
  const log = config.log;
  const alerts = config.alerts;
  const sinks: AlertSinkSettings[] = alerts.sinks.map((sink, index) => {
    // The URL is never a name: Slack and most webhooks carry their token in it.
    const name = sink.name ?? `${sink.type}-${index + 1}`;
    return sink.type === 'webhook' ? { type: 'webhook', name, url: sink.url, types: sink.types, headers: sink.headers } : { type: 'slack', name, url: sink.url, types: sink.types };
  });
  return {
    requestLog: {
      isEnabled: log.enabled,
      path: log.path,
      url: log.url,
      logBodies: log.bodies,
      maxAgeMs: log.max_age_hours * hourMs,
      maxSizeBytes: log.max_size_mb * 1024 * 1024,
      queueSize: log.queue_size,
      batchSize: log.batch_size,
      flushIntervalMs: log.flush_interval_ms,
    },
    alerts: {
      sinks,
      resolveAfterMs: alerts.resolve_after_ms,
      minFailovers: alerts.min_failovers,
      maxPerMinute: alerts.max_per_minute,
      deliveryAttempts: alerts.delivery_attempts,
      deliveryBackoffMs: alerts.delivery_backoff_ms,
      deliveryTimeoutMs: alerts.delivery_timeout_ms,
    },
    slos: Object.entries(config.models).flatMap(([route, settings]) =>
      settings.slo ? [{ route, successRate: settings.slo.success_rate, p95Ms: settings.slo.p95_ms, minRequests: settings.slo.min_requests }] : [],
    ),
    prices: Object.fromEntries(
      Object.entries(config.prices).map(([model, price]) => [
        model,
        { inputPerMillion: price.input_per_million, outputPerMillion: price.output_per_million, cachedInputPerMillion: price.cached_input_per_million },
      ]),
    ),
    secrets: secretsOf(config),
  };
}

/** Every configured string that must never be shown: upstream keys and headers, the admin token, the auth secret, client keys, alert URLs and headers, the collector's headers. */
export function secretsOf(config: DetourConfig): string[] {
  const secrets: string[] = [];
  for (const provider of Object.values(config.providers)) {
    secrets.push(...providerKeys(provider).map((entry) => entry.key), ...Object.values(provider.headers));
  }
  if (config.server.admin_token !== undefined) secrets.push(config.server.admin_token);
  if (config.auth.secret !== undefined) secrets.push(config.auth.secret);
  secrets.push(...config.auth.keys.map((entry) => entry.key));
  if (config.log.url !== undefined) secrets.push(...databaseUrlSecrets(config.log.url));
  for (const sink of config.alerts.sinks) {
    secrets.push(sink.url);
    if (sink.type === 'webhook') secrets.push(...Object.values(sink.headers));
  }
  // A collector's headers carry its API key; its URL may carry a token too.
  secrets.push(...Object.values(config.telemetry.headers));
  return secrets.filter((secret) => secret.length >= 4);
}

/** The routes and targets by id, in order; keys stay in the engine. */
export function topologyOf(routes: RouteTable): Topology {
  return {
    routes: routes.all().map((route) => ({
      name: route.settings.name,
      targets: route.groups.flatMap((group) => group.targets.map((target) => ({ id: target.id, provider: target.provider.name, model: target.model, region: target.region }))),
      primary: route.groups[0]?.targets.map((target) => target.id) ?? [],
    })),
  };
}
