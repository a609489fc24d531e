import type { Clock, Random } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import { Engine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { Observability } from '../observability/observability.js';
import type { TargetStateSource } from '../observability/target-state.js';
import { redactSecrets } from '../providers/shared/redact.js';
import { storeStatusOf, type StoreStatus } from '../state/redis-status.js';
import { registerAdminRoutes } from './admin/admin-routes.js';
import { buildEngine } from './build-engine.js';
import { DetourServer } from './http-server.js';
import { toObservabilitySettings, topologyOf } from './observability-config.js';

const storeModes = ['memory', 'connecting', 'redis', 'local-fallback'] as const;

export interface GatewayServerOptions {
  port?: number;
  host?: string;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
  /** The engine's live per-target state (circuit, EWMA latency, in flight), when it offers one. */
  targetState?: TargetStateSource;
  /** Process metrics (CPU, memory, event loop) in /metrics; on unless turned off. */
  processMetrics?: boolean;
}

export interface RunningGateway {
  url: string;
  host: string;
  port: number;
  engine: Engine;
  server: DetourServer;
  observability: Observability;
  close(): Promise<void>;
}

/** Builds the engine from a validated config, wires observability to its events, and serves both over HTTP. */
export async function startGatewayServer(config: DetourConfig, options: GatewayServerOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const built = await buildEngine(config, { clock, random: options.random, logger });
  const engine = built.engine;
  const targetState: TargetStateSource = options.targetState ?? { targets: () => engine.targets() };
  const topology = topologyOf(engine.routes);
  const observabilitySettings = toObservabilitySettings(config);
  const observability = new Observability(observabilitySettings, {
    events: engine.events,
    topology,
    clock,
    logger,
    redact: (text) => redactSecrets(text, observabilitySettings.secrets),
    targetState,
    processMetrics: options.processMetrics,
  });
  const server = new DetourServer({ engine, maxBodyBytes: config.server.max_body_bytes, logger });
  const stateStatus = (): StoreStatus => storeStatusOf(engine.resilience.store);
  observability.metrics.onScrape(() => {
    const status = stateStatus();
    for (const mode of storeModes) observability.metrics.stateStoreMode.set({ mode }, status.mode === mode ? 1 : 0);
    observability.metrics.stateStoreFallbacks.set(status.fallbacks);
  });
  const admin = registerAdminRoutes(server, { observability, topology, adminToken: config.server.admin_token, stateStatus });
  let address;
  try {
    address = await server.listen(options.port ?? config.server.port, options.host ?? config.server.host);
  } catch (error) {
    await observability.close();
    await built.close();
    throw error;
  }
  return {
    ...address,
    engine,
    server,
    observability,
    async close() {
      admin.close();
      await server.close();
      await observability.close();
      await built.close();
    },
  };
}
