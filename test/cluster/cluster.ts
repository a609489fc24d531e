import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { storeStatusOf, type StoreMode } from '../../src/state/redis-status.js';
import { openAiProvider, startGateway } from '../helpers/gateway.js';

/** Opens after two failures; a short cooldown keeps the tests quick. */
export const fastBreaker = { failure_threshold: 2, window_ms: 10_000, open_ms: 300, max_open_ms: 2000, minimum_requests: 50 };

export const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };

export interface ClusterOptions {
  redisUrl: string;
  /** Keeps this test's keys apart from the others' on the same server. */
  prefix: string;
  primary: Simulator;
  backup: Simulator;
  /** Extra keys of the primary provider (a health check, say). */
  primaryExtra?: Record<string, unknown>;
  /** Extra config keys (routes, breaker). */
  config?: Record<string, unknown>;
}

/** One Detour instance of a cluster sharing state through Redis: route `chat` is primary then backup. */
export function startInstance(options: ClusterOptions): Promise<RunningGateway> {
  return startGateway({
    state: { store: 'redis', url: options.redisUrl, prefix: options.prefix },
    breaker: fastBreaker,
    providers: { primary: { ...openAiProvider(options.primary), ...options.primaryExtra }, backup: openAiProvider(options.backup) },
    models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 } } },
    ...options.config,
  });
}

export function circuitOf(gateway: RunningGateway, targetId: string): string | undefined {
  return gateway.engine.targets().find((target) => target.id === targetId)?.circuit;
}

export function modeOf(gateway: RunningGateway): StoreMode {
  return storeStatusOf(gateway.engine.resilience.store).mode;
}

/** Nearest-rank percentile of `samples` (ms). */
export function percentile(samples: readonly number[], quantile: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1))] ?? Number.NaN;
}
