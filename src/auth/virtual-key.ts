/**
 * A virtual key: what a client presents instead of an upstream key, with the scope, limits and
 * budget it carries. The key itself is never held, only its HMAC (`key-secret.ts`).
 */

export type KeyPeriod = 'day' | 'week' | 'month';
export type KeyPriority = 'high' | 'normal' | 'low';

export const keyPeriods: readonly KeyPeriod[] = ['day', 'week', 'month'];
export const keyPriorities: readonly KeyPriority[] = ['high', 'normal', 'low'];

/** What a key may do. Absent limits do not apply. */
export interface KeyLimits {
  /** Routes the key may call; every route when absent. */
  routes?: readonly string[] | undefined;
  /** Requests per minute. */
  rpm?: number | undefined;
  /** Tokens (input + output) per minute. */
  tpm?: number | undefined;
  /** Requests in flight at once. */
  maxParallel?: number | undefined;
  /** Spend allowed per `period`, in USD. */
  budgetUsd?: number | undefined;
  period?: KeyPeriod | undefined;
  /** For scheduling by priority (not used by the engine yet). */
  priority: KeyPriority;
  /**
   * Upstream keys this key's requests may use, as `provider.key-name`. A provider named here is
   * used only with these keys; a provider not named is used as usual.
   */
  upstreamKeys?: readonly string[] | undefined;
}

export interface VirtualKey extends KeyLimits {
  /** Stable id (`key_…`); limits, spend and statistics are kept under it across rotations. */
  id: string;
  /** Unique among active keys; the label in metrics, the dashboard and the request log. */
  name: string;
  /** The key's first characters (`dtr_AbCd`), to recognise it in a list; never enough to use it. */
  prefix: string;
  /** Epoch ms. */
  createdAt: number;
  expiresAt?: number | undefined;
  revokedAt?: number | undefined;
  /** `config` keys come from `auth.keys` and cannot be changed through the CLI or API. */
  source: 'store' | 'config';
}

/** Why a key that exists does not work now; undefined when it does. */
export function keyInactiveReason(key: VirtualKey, now: number): 'revoked' | 'expired' | undefined {
  if (key.revokedAt !== undefined && key.revokedAt <= now) return 'revoked';
  if (key.expiresAt !== undefined && key.expiresAt <= now) return 'expired';
  return undefined;
}

/** A key as the CLI and the admin API show it (snake_case, ISO times); never the key or its hash. */
export function keyJson(key: VirtualKey, now: number): Record<string, unknown> {
  const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    source: key.source,
    status: keyInactiveReason(key, now) ?? 'active',
    routes: key.routes ?? null,
    rpm: key.rpm ?? null,
    tpm: key.tpm ?? null,
    max_parallel: key.maxParallel ?? null,
    budget_usd: key.budgetUsd ?? null,
    period: key.period ?? null,
    priority: key.priority,
    upstream_keys: key.upstreamKeys ?? null,
    created_at: iso(key.createdAt),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
  };
}
