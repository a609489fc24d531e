import type { z } from 'zod';
import { loadConfigFile, validateConfig } from '../config/load.js';
import { toRuntimeSettings } from '../config/runtime.js';
import type { configSchema } from '../config/schema.js';
import { Engine } from '../engine/engine.js';
import type { Logger } from '../observability/logger.js';
import { logRequests } from '../observability/request-logging.js';
import { providerTypes } from '../providers/registry.js';
import { DetourGateway, type Gateway } from './gateway.js';

/** A config object in the YAML file's shape (snake_case; `${ENV}` references allowed in strings). */
export type GatewayConfig = z.input<typeof configSchema>;

export interface CreateGatewayOptions {
  /** Where `${VAR}` references are looked up; `process.env` when absent. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Opt-in request log: one line per request, attempts at debug, as the server writes them.
   * A pino logger (or one with its interface). Off by default, and then costs nothing.
   */
  logger?: Logger;
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
  const engine = new Engine(toRuntimeSettings(validated));
  const stopLogging = options.logger ? logRequests(engine.events, options.logger) : undefined;
  return new DetourGateway({ config: validated, engine, onClose: stopLogging });
}
