import { z } from 'zod';
import { isPostgresUrl } from '../observability/request-log/database-url.js';

/**
 * The observability part of the config: the request log, alert sinks, prices and SLOs.
 * Kept apart from `schema.ts` so that the engine's settings and these evolve without stepping
 * on each other; `schema.ts` only plugs them in.
 */

const positiveMs = z.number().int().positive();

export const requestLogSchema = z
  .object({
    /** Record every request in an SQLite file. */
    enabled: z.boolean().default(true),
    path: z.string().min(1).default('./detour-requests.sqlite'),
    /** A PostgreSQL database the instances of a cluster share (`postgres://user:password@host:5432/db`); the log lives there instead of `path`. */
    url: z
      .string()
      // The message never repeats the value: it holds a password.
      .refine((url) => isPostgresUrl(url), { message: 'expected a postgres:// or postgresql:// URL (the value is not shown: it may hold a password)' })
      .optional(),
    /** Store prompts and completions too. Off: they may hold personal data. */
    bodies: z.boolean().default(false),
    max_age_hours: z.number().int().positive().default(168),
    max_size_mb: z.number().int().positive().default(1024),
    /** Records waiting for the disk (about 1 KB each without bodies); beyond this they are dropped, counted and reported. */
    queue_size: z.number().int().positive().default(50_000),
    /** Rows per transaction; a transaction of 1,000 cost the worker ~20% less CPU a row than one of 200 (bench/README.md). */
    batch_size: z.number().int().positive().max(5000).default(1000),
    flush_interval_ms: positiveMs.default(500),
  })
  .strict();

const alertTypeSchema = z.enum(['target_down', 'region_down', 'all_targets_failed', 'slo_burn', 'key_budget']);

const sinkCommon = {
  /** Shown in logs and metrics instead of the URL (which often holds a token). */
  name: z.string().min(1).optional(),
  url: z.string().url(),
  /** Only these alert types; all when absent. */
  types: z.array(alertTypeSchema).min(1).optional(),
};

export const alertSinkSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('webhook'), ...sinkCommon, headers: z.record(z.string(), z.string()).default({}) }).strict(),
  z.object({ type: z.literal('slack'), ...sinkCommon }).strict(),
]);

export const alertsSchema = z
  .object({
    sinks: z.array(alertSinkSchema).default([]),
    /** A problem must stay gone this long before its recovery is announced. */
    resolve_after_ms: positiveMs.default(60_000),
    /** Failovers away from a target within a minute before it is reported down (an open circuit reports at once). */
    min_failovers: z.number().int().positive().default(3),
    /** New incidents announced per sink per minute. */
    max_per_minute: z.number().int().positive().default(10),
    delivery_attempts: z.number().int().min(1).max(20).default(5),
    delivery_backoff_ms: positiveMs.default(1000),
    delivery_timeout_ms: positiveMs.default(5000),
  })
  .strict();

/** USD per million tokens for a model (name or prefix), overriding the built-in table. */
export const priceSchema = z
  .object({
    input_per_million: z.number().nonnegative(),
    output_per_million: z.number().nonnegative(),
    cached_input_per_million: z.number().nonnegative().optional(),
  })
  .strict();

export const sloSchema = z
  .object({
    /** Share of requests that must succeed (client errors excluded), e.g. 0.999. */
    success_rate: z.number().gt(0).lt(1).optional(),
    /** 95 % of successful requests must finish within this many milliseconds. */
    p95_ms: positiveMs.optional(),
    /** Requests in the long window before a burn rate may alert. */
    min_requests: z.number().int().positive().default(20),
  })
  .strict()
  .refine((slo) => slo.success_rate !== undefined || slo.p95_ms !== undefined, { message: 'give success_rate, p95_ms or both' });

export type RequestLogConfig = z.infer<typeof requestLogSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
export type PriceConfig = z.infer<typeof priceSchema>;
export type SloConfig = z.infer<typeof sloSchema>;
