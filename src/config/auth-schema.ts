import { z } from 'zod';

/**
 * Client authentication with virtual keys:
 *
 * ```yaml
 * auth:
 *   mode: keys                          # none (default) | keys: every public request needs a key
 *   secret: ${DETOUR_AUTH_SECRET}        # HMAC secret for stored keys (or the env variable itself)
 *   keys:                                # small setups: keys in the config instead of the database
 *     - { name: billing, key: "${BILLING_KEY}", routes: [chat], rpm: 60, budget_usd: 10, period: day }
 * ```
 */

const positiveInt = z.number().int().positive();

/** Limits and scope a virtual key carries, whether it is stored or listed in the config. */
export const keyLimitsShape = {
  /** Routes the key may call; every route when absent. */
  routes: z.array(z.string().min(1)).min(1).optional(),
  /** Requests per minute. */
  rpm: positiveInt.optional(),
  /** Tokens (input + output) per minute. */
  tpm: positiveInt.optional(),
  /** Requests in flight at once. */
  max_parallel: positiveInt.optional(),
  /** Spend allowed per `period`, in USD. */
  budget_usd: z.number().positive().optional(),
  period: z.enum(['day', 'week', 'month']).optional(),
  /** For a later scheduler: the key's requests' priority. */
  priority: z.enum(['high', 'normal', 'low']).default('normal'),
  /** Upstream keys this key's requests may use, as `provider.key-name` (or `provider.N` for the N-th key). */
  upstream_keys: z.array(z.string().regex(/^[^./]+\.[^./]+$/, 'expected provider.key-name, e.g. openai.team-a')).min(1).optional(),
};

export const configKeySchema = z
  .object({
    name: z.string().min(1).max(64),
    key: z.string().min(16, 'a key must be at least 16 characters'),
    /** When the key stops working (ISO 8601). */
    expires_at: z.string().datetime({ offset: true }).optional(),
    ...keyLimitsShape,
  })
  .strict()
  .refine((key) => key.budget_usd === undefined || key.period !== undefined, { message: 'budget_usd needs a period (day, week or month)', path: ['period'] });

export const authSchema = z
  .object({
    mode: z.enum(['none', 'keys']).default('none'),
    /** HMAC-SHA256 secret stored keys are hashed with; `DETOUR_AUTH_SECRET` when absent. */
    secret: z.string().min(16, 'auth.secret must be at least 16 characters').optional(),
    keys: z.array(configKeySchema).default([]),
  })
  .strict();

export type AuthConfig = z.infer<typeof authSchema>;
export type ConfigKey = z.infer<typeof configKeySchema>;
