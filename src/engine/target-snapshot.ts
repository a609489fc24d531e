import type { Target } from '../core/settings.js';
import type { StateStore } from '../state/state-store.js';
import type { LimitHeadroom } from './target-limits.js';

/** One target's live state, for `/admin/api/targets`, the dashboard and `gateway.targets()`. Never holds a key. */
export interface TargetSnapshot {
  id: string;
  provider: string;
  model: string;
  keyIndex: number;
  circuit: 'closed' | 'open' | 'half_open';
  /** When an open circuit's cooldown ends (epoch ms). */
  cooldownUntil: number | null;
  /** Why the circuit is open. */
  openReason: string | null;
  health: 'unknown' | 'healthy' | 'unhealthy';
  /** EWMA latency (ms) and time to first token (ms); null before any sample. */
  latencyMs: number | null;
  ttftMs: number | null;
  /** EWMA success rate in [0, 1]. */
  successRate: number;
  inFlight: number;
  /** Its rate limits (declared in the config, or learned from the provider's headers) and what is left of each now. */
  limits: LimitHeadroom[];
}

export function targetSnapshot(target: Target, store: StateStore, now: number, limits: LimitHeadroom[] = []): TargetSnapshot {
  const breaker = store.breakerView(target.id);
  const stats = store.statsView(target.id);
  const isCooling = breaker.status === 'open' && breaker.until > now;
  return {
    id: target.id,
    provider: target.provider.name,
    model: target.model,
    keyIndex: target.keyIndex,
    circuit: breaker.status === 'open' && !isCooling ? 'half_open' : breaker.status,
    cooldownUntil: breaker.status === 'open' ? breaker.until : null,
    openReason: breaker.status === 'closed' ? null : breaker.reason,
    health: store.healthView(target.id).status,
    latencyMs: stats.latencyMs === null ? null : Math.round(stats.latencyMs * 10) / 10,
    ttftMs: stats.ttftMs === null ? null : Math.round(stats.ttftMs * 10) / 10,
    successRate: Math.round(stats.successRate * 1000) / 1000,
    inFlight: stats.inFlight,
    limits,
  };
}
