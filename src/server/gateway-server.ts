import type { Clock, Random } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import { toRuntimeSettings } from '../config/runtime.js';
import { Engine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { logRequests } from '../observability/request-logging.js';
import { DetourServer } from './http-server.js';

export interface GatewayServerOptions {
  port?: number;
  host?: string;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
}

export interface RunningGateway {
  url: string;
  host: string;
  port: number;
  engine: Engine;
  server: DetourServer;
  close(): Promise<void>;
}

/** Builds the engine from a validated config and serves it over HTTP. */
export async function startGatewayServer(config: DetourConfig, options: GatewayServerOptions = {}): Promise<RunningGateway> {
  const settings = toRuntimeSettings(config);
  const logger = options.logger ?? silentLogger;
  const engine = new Engine({ ...settings, clock: options.clock, random: options.random });
  const stopLogging = logRequests(engine.events, logger);
  const server = new DetourServer({ engine, maxBodyBytes: config.server.max_body_bytes, logger });
  const address = await server.listen(options.port ?? config.server.port, options.host ?? config.server.host);
  return {
    ...address,
    engine,
    server,
    async close() {
      await server.close();
      stopLogging();
      await engine.close();
    },
  };
}
