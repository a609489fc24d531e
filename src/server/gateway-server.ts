import type { Clock, Random } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import { toRuntimeSettings } from '../config/runtime.js';
import { toStateSettings } from '../config/state-schema.js';
import { Engine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { Observability } from '../observability/observability.js';
import type { TargetStateSource } from '../observability/target-state.js';
import { redactSecrets } from '../providers/shared/redact.js';
import { RedisStateStore } from '../state/redis-store.js';
import type { StoreStatus } from '../state/redis-status.js';
import { registerAdminRoutes } from './admin/admin-routes.js';
import { DetourServer } from './http-server.js';
import { toObservabilitySettings, topologyOf } from './observability-config.js';

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
  const settings = toRuntimeSettings(config);
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const store = createStateStore(config, clock, logger);
  const engine = new Engine({ ...settings, clock: options.clock, random: options.random, store, captureStreamBodies: config.log.enabled && config.log.bodies });
  // Never rejects: an unreachable Redis means starting in local fallback, not failing to start.
  await store?.preload(engine.targets().map((target) => target.id));
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
  const admin = registerAdminRoutes(server, { observability, topology, adminToken: config.server.admin_token });
  let address;
  try {
    address = await server.listen(options.port ?? config.server.port, options.host ?? config.server.host);
  } catch (error) {
    await observability.close();
    await engine.close();
    await store?.close();
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
      await engine.close();
      await store?.close();
    },
  };
}

/** The Redis store when the config asks for one (the engine keeps its own memory store otherwise); its outages are logged once each. */
function createStateStore(config: DetourConfig, clock: Clock, logger: Logger): RedisStateStore | undefined {
  const state = toStateSettings(config.state);
  if (state.store !== 'redis') return undefined;
  return new RedisStateStore({ ...state, clock, onStatusChange: (status) => logStoreStatus(logger, status) });
}

function logStoreStatus(logger: Logger, status: StoreStatus): void {
  if (status.mode === 'local-fallback') logger.warn({ state: status }, 'state store: Redis is unreachable or slow; deciding on local state until it answers again');
  else if (status.mode === 'redis') logger.info({ state: status }, 'state store: sharing state through Redis');
}
