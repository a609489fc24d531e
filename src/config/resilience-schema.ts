import { z } from 'zod';
import { strategyNames } from '../core/strategies.js';

/** Breaker settings for every target (per-target counting, one shared configuration). */
export const breakerSchema = z
  .object({
    failure_threshold: z.number().int().positive().default(5),
    window_ms: z.number().int().positive().default(60_000),
    failure_rate: z.number().gt(0).max(1).default(0.5),
    minimum_requests: z.number().int().positive().default(10),
    open_ms: z.number().int().positive().default(30_000),
    max_open_ms: z.number().int().positive().default(300_000),
    /** While every target of a route is down, each open circuit lets one recovery probe through this often. */
    recovery_probe_ms: z.number().int().positive().default(1_000),
    /** This many calls in flight on one target, each waiting far past that target's norm, open its circuit and move on; 0 turns it off. */
    slow_call_count: z.number().int().min(0).default(3),
    /** A wait past this many times the target's recent p95 of the same kind is slow. */
    slow_call_factor: z.number().gt(1).default(4),
    /** A wait shorter than this is never slow. */
    slow_call_min_ms: z.number().int().positive().default(2_000),
  })
  .strict();

/** The same settings for one provider or route, each optional: they override `breaker:` for those targets. */
export const breakerOverrideSchema = z
  .object({
    failure_threshold: z.number().int().positive().optional(),
    window_ms: z.number().int().positive().optional(),
    failure_rate: z.number().gt(0).max(1).optional(),
    minimum_requests: z.number().int().positive().optional(),
    open_ms: z.number().int().positive().optional(),
    max_open_ms: z.number().int().positive().optional(),
    recovery_probe_ms: z.number().int().positive().optional(),
    slow_call_count: z.number().int().min(0).optional(),
    slow_call_factor: z.number().gt(1).optional(),
    slow_call_min_ms: z.number().int().positive().optional(),
  })
  .strict();

export const healthCheckSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** `models` (default) lists the provider's models and costs no tokens; `completion` asks for one token. */
    mode: z.enum(['models', 'completion']).default('models'),
    interval_ms: z.number().int().positive().default(30_000),
    unhealthy_interval_ms: z.number().int().positive().default(10_000),
    timeout_ms: z.number().int().positive().default(5_000),
    unhealthy_threshold: z.number().int().positive().default(2),
    healthy_threshold: z.number().int().positive().default(2),
  })
  .strict();

export const capabilitiesSchema = z
  .object({
    vision: z.boolean().optional(),
    tools: z.boolean().optional(),
    json: z.boolean().optional(),
    context_window: z.number().int().positive().optional(),
  })
  .strict();

const budgetShape = {
  /** Retries (or hedges) allowed as a share of recent requests. */
  ratio: z.number().min(0).max(10).default(0.2),
  /** Allowed per window however few the requests. */
  min_per_window: z.number().int().min(0).default(10),
  window_ms: z.number().int().positive().default(10_000),
};

export const retryBudgetSchema = z.object(budgetShape).strict();

export const hedgeSchema = z
  .object({
    /** Hedge after this long without a first byte from the first target. */
    after_ms: z.number().int().positive().optional(),
    /** Or after this percentile of the first target's observed time to first token (e.g. 0.95). */
    percentile: z.number().gt(0).lt(1).optional(),
    min_samples: z.number().int().positive().default(20),
    min_delay_ms: z.number().int().min(0).default(50),
    budget: z.object({ ...budgetShape, ratio: budgetShape.ratio.default(0.1) }).strict().prefault({}),
  })
  .strict()
  .refine((hedge) => hedge.after_ms !== undefined || hedge.percentile !== undefined, { message: 'give after_ms or percentile' });

export const mirrorSchema = z
  .object({
    provider: z.string().min(1),
    model: z.string().min(1),
    sample_rate: z.number().min(0).max(1).default(0.1),
  })
  .strict();

/** Keys a route may set beyond its targets and timing. */
export const routeResilienceShape = {
  strategy: z.enum(strategyNames as [string, ...string[]]).default('fallback'),
  degrade_to: z.string().min(1).optional(),
  /** When every target is down, how long a request waits for one to recover (bounded by timeout_ms); 0 fails at once. */
  wait_for_recovery_ms: z.number().int().min(0).optional(),
  retry_budget: retryBudgetSchema.prefault({}),
  hedge: hedgeSchema.optional(),
  mirror: mirrorSchema.optional(),
  /** Breaker settings for this route's targets, over the provider's and the top-level ones. */
  breaker: breakerOverrideSchema.optional(),
};
