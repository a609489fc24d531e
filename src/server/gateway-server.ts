import type { Clock, Random } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { buildGateway } from '../gateway/build-gateway.js';
import type { GatewayCore } from '../gateway/gateway-core.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { Observability } from '../observability/observability.js';
import type { TargetStateSource } from '../observability/target-state.js';
import { DetourServer } from './http-server.js';

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
  gateway: GatewayCore;
  server: DetourServer;
  observability: Observability;
  close(): Promise<void>;
}

/** Builds the gateway from a validated config, with observability, and serves it over HTTP. */
export async function startGatewayServer(config: DetourConfig, options: GatewayServerOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? silentLogger;
  const built = await buildGateway(config, {
    logger,
    clock: options.clock,
    random: options.random,
    observability: { processMetrics: options.processMetrics, targetState: options.targetState },
  });
  const server = new DetourServer({ gateway: built.core, logger });
  let address;
  try {
    address = await server.listen(options.port ?? config.server.port, options.host ?? config.server.host);
  } catch (error) {
    await built.close();
    throw error;
  }
  return {
    ...address,
    engine: built.engine,
    gateway: built.core,
    server,
    observability: built.observability as Observability,
    async close() {
      built.endStreams();
      await server.close();
      await built.close();
    },
  };
}
