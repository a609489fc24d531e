import type { z } from 'zod';
import { loadConfigFile, validateConfig } from '../config/load.js';
import type { configSchema } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { buildGateway } from '../gateway/build-gateway.js';
import { providerTypes } from '../providers/registry.js';
import { DetourGateway, type Gateway } from './gateway.js';

/** A config object in the YAML file's shape (snake_case; `${ENV}` references allowed in strings). */
export type GatewayConfig = z.input<typeof configSchema>;

export interface CreateGatewayOptions {
  /** Where `${VAR}` references are looked up; `process.env` when absent. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Where request lines go: one per request, attempts at debug, as the server writes them.
   * A pino logger (or one with its interface). Without one, nothing is logged.
   */
  logger?: Logger;
  /**
   * Opt-in: the server's observability over this gateway's engine — Prometheus metrics
   * (`gateway.metrics()`), the request log (a SQLite file, when the config's `log.enabled`),
   * statistics, SLOs and alerts. Off by default, and then none of it is loaded: no file, no
   * timer, no listener.
   */
  observability?: boolean | { processMetrics?: boolean };
}

/**
 * Builds an in-process gateway from a config object or the path of a YAML config file,
 * validated by the server's schema with the server's errors (a `ConfigError` listing every
 * problem with its path, and its line for a file). Starts no server and opens no connection
 * until the first request; `close()` releases everything.
 */
export async function createGateway(config: GatewayConfig | string, options: CreateGatewayOptions = {}): Promise<Gateway> {
  const loadOptions = { providerTypes: providerTypes(), env: options.env };
  const validated = typeof config === 'string' ? loadConfigFile(config, loadOptions) : validateConfig(config, loadOptions);
  const processMetrics = typeof options.observability === 'object' ? options.observability.processMetrics : undefined;
  const built = await buildGateway(validated, {
    logger: options.logger,
    // In process, the host application usually has its own process metrics.
    observability: options.observability ? { processMetrics: processMetrics ?? false } : false,
  });
  return new DetourGateway({ config: validated, core: built.core, observability: built.observability, release: () => built.close() });
}
