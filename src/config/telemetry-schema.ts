import { z } from 'zod';

/**
 * `telemetry:`: OpenTelemetry traces over OTLP/HTTP (JSON). Off unless `otlp_endpoint` is set;
 * then a span per request and one per upstream call go to the collector in batches.
 */
export const telemetrySchema = z
  .object({
    /**
     * The collector's OTLP/HTTP endpoint: a base URL (`http://collector:4318`, `/v1/traces` is
     * appended) or the full traces URL (ending in `/v1/traces`, used as it is).
     */
    otlp_endpoint: z
      .string()
      .url()
      .refine((url) => /^https?:\/\//i.test(url), 'an http:// or https:// URL')
      .optional(),
    /** `service.name` of Detour's spans. */
    service_name: z.string().min(1).max(256).default('detour'),
    /** Headers sent to the collector (an API key, a tenant): secrets, never logged or shown. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Share of new traces (no sampled `traceparent` from the client) that are recorded, 0 to 1; a client's own sampling decision is followed. */
    sample_ratio: z.number().min(0).max(1).default(1),
    /** Spans waiting for export; past this (a collector that is down or slow) new spans are dropped, never the request. */
    max_queue_size: z.number().int().positive().max(1_000_000).default(8192),
    /** Spans per export request. */
    max_export_batch_size: z.number().int().positive().max(100_000).default(512),
    /** How often a batch goes out at the latest. */
    export_interval_ms: z.number().int().positive().default(2000),
    /** How long one export may take before it is given up. */
    export_timeout_ms: z.number().int().positive().default(10_000),
  })
  .strict()
  .refine((telemetry) => telemetry.max_export_batch_size <= telemetry.max_queue_size, { message: 'max_export_batch_size cannot exceed max_queue_size', path: ['max_export_batch_size'] });

export type TelemetryConfig = z.infer<typeof telemetrySchema>;
