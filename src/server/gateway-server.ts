import type { Clock, Random, Timers } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { buildGateway } from '../gateway/build-gateway.js';
import type { GatewayCore } from '../gateway/gateway-core.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { Observability } from '../observability/observability.js';
import type { TargetStateSource } from '../observability/target-state.js';
import { bindRefusal } from '../auth/request-policy.js';
import type { FrontDoor } from '../gateway/front-door.js';
import type { ReloadOutcome } from '../gateway/config-reload.js';
import { DetourServer } from './http-server.js';

export interface GatewayServerOptions {
  port?: number;
  host?: string;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
  /** Schedules the engine's timeouts and backoffs on the clock's time (tests may run both faster). */
  timers?: Timers;
  /** The engine's live per-target state (circuit, EWMA latency, in flight), when it offers one. */
  targetState?: TargetStateSource;
  /** Process metrics (CPU, memory, event loop) in /metrics; on unless turned off. */
  processMetrics?: boolean;
  /** Reads and validates the config again, for reloads (the CLI reads its file). */
  reloadConfig?: () => DetourConfig;
}

export interface RunningGateway {
  url: string;
  host: string;
  port: number;
  engine: Engine;
  gateway: GatewayCore;
  server: DetourServer;
  observability: Observability;
  frontDoor: FrontDoor;
  /** Validates and swaps in the config again; present when started with `reloadConfig`. */
  reload?: (() => Promise<ReloadOutcome>) | undefined;
  close(): Promise<void>;
}

/** `detour start` on a non-loopback address without client authentication. */
export class BindRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BindRefusedError';
  }
}

/** Builds the gateway from a validated config, with observability, and serves it over HTTP. */
export async function startGatewayServer(config: DetourConfig, options: GatewayServerOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? config.server.host;
  const refusal = bindRefusal(host, { authMode: config.auth.mode, allowUnauthenticated: config.server.allow_unauthenticated });
  if (refusal !== undefined) throw new BindRefusedError(refusal);
  const built = await buildGateway(config, {
    listenHost: host,
    logger,
    clock: options.clock,
    random: options.random,
    timers: options.timers,
    observability: { processMetrics: options.processMetrics, targetState: options.targetState },
    reload: options.reloadConfig ? { load: options.reloadConfig } : undefined,
  });
  const server = new DetourServer({ gateway: built.core, logger, headersTimeoutMs: config.server.headers_timeout_ms, requestTimeoutMs: config.server.request_timeout_ms });
  let address;
  try {
    address = await server.listen(options.port ?? config.server.port, host);
  } catch (error) {
    await built.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  void built.frontDoor.manager?.audit('server', 'config.loaded', undefined, { routes: Object.keys(config.models).length, auth_mode: config.auth.mode, config_keys: config.auth.keys.length });
  return {
    ...address,
    // The engine serving now (a reload swaps it).
    get engine() {
      return built.engine;
    },
    reload: built.reload,
    gateway: built.core,
    server,
    observability: built.observability as Observability,
    frontDoor: built.frontDoor,
    close() {
      // Idempotent: a second close waits for the first.
      closing ??= (async () => {
        // /healthz fails at once; with a drain period the port stays open meanwhile, so a load balancer takes this instance out before anything meets a closed port.
        built.core.startDraining();
        const drainMs = config.server.shutdown_drain_ms;
        if (drainMs > 0) {
          server.startDraining();
          logger.info({ drainMs }, 'shutting down: draining, /healthz answers 503 while requests are still served');
          await new Promise((resolve) => setTimeout(resolve, drainMs));
        }
        built.endStreams();
        const inFlight = server.inFlight;
        if (inFlight > 0) logger.info({ inFlight, graceMs: config.server.shutdown_grace_ms }, 'shutting down: letting requests in flight finish');
        await server.close(config.server.shutdown_grace_ms);
        if (server.shutdown && server.shutdown.cut > 0) logger.warn(server.shutdown, 'shutting down: requests still in flight after the grace period were ended with an error');
        // Last: the request log is flushed with every request, the cut ones included.
        await built.close();
      })();
      return closing;
    },
  };
}
