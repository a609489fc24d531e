import { z } from 'zod';

/** Rate limits of an upstream account: each key of a provider (or one target's keys) may send this much per minute. */
export const limitsSchema = z
  .object({
    /** Requests per minute, per key (and model: providers count each model apart). */
    rpm: z.number().int().positive().max(100_000_000).optional(),
    /** Tokens (input + output) per minute, per key and model. */
    tpm: z.number().int().positive().max(100_000_000_000).optional(),
  })
  .strict();

/** Where a route's requests wait when every target is at its limit (or down): bounded in size and time. */
export const queueSchema = z
  .object({
    /** Most requests waiting at once (0: none wait; every target at its limit is a 429 at once). */
    max: z.number().int().min(0).max(1_000_000).default(1000),
    /** Longest one request waits before a 429 (also bounded by the route's timeout_ms). */
    timeout_ms: z.number().int().min(0).max(3_600_000).default(30_000),
  })
  .strict();

export type LimitsConfig = z.infer<typeof limitsSchema>;
export type QueueConfig = z.infer<typeof queueSchema>;
