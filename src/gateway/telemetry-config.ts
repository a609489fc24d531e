import type { DetourConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import type { ProviderFacts, TracingSettings } from '../observability/tracing/tracing.js';

/** `telemetry:` as the tracer takes it; undefined when no `otlp_endpoint` is set (no spans at all). */
export function toTracingSettings(config: DetourConfig): TracingSettings | undefined {
  const telemetry = config.telemetry;
  if (telemetry.otlp_endpoint === undefined) return undefined;
  return {
    url: tracesUrlOf(telemetry.otlp_endpoint),
    serviceName: telemetry.service_name,
    headers: telemetry.headers,
    sampleRatio: telemetry.sample_ratio,
    maxQueueSize: telemetry.max_queue_size,
    maxExportBatchSize: telemetry.max_export_batch_size,
    exportIntervalMs: telemetry.export_interval_ms,
    exportTimeoutMs: telemetry.export_timeout_ms,
  };
}

/** A base endpoint gets the OTLP traces path appended, as `OTEL_EXPORTER_OTLP_ENDPOINT` does; a full `…/v1/traces` URL is used as it is. */
export function tracesUrlOf(endpoint: string): string {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

const providersByEngine = new WeakMap<Engine, Map<string, ProviderFacts>>();

/** The serving engine's provider by config name (a reload swaps the engine; each one's table is built once). */
export function providerLookup(engine: () => Engine): (name: string) => ProviderFacts | undefined {
  return (name) => {
    const current = engine();
    let table = providersByEngine.get(current);
    if (!table) {
      table = new Map();
      for (const target of current.targetsById().values()) table.set(target.provider.name, { type: target.provider.type, baseUrl: target.provider.baseUrl });
      providersByEngine.set(current, table);
    }
    return table.get(name);
  };
}
