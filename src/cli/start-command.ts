import { loadConfigFile } from '../config/load.js';
import { createLogger, flushLogger } from '../observability/logger.js';
import { BindRefusedError, startGatewayServer } from '../server/gateway-server.js';
import { providerTypes } from '../providers/registry.js';
import { watchConfigFile } from './config-watch.js';
import { loadConfigOrExit, onShutdown } from './load.js';
import { setHeapGrowth } from './heap-growth.js';

export async function runStart(options: { config: string; port?: number; host?: string; logLevel: string; heapGrowth?: number }): Promise<void> {
  setHeapGrowth(options.heapGrowth ?? 0);
  const config = loadConfigOrExit(options.config);
  const logger = createLogger({ level: options.logLevel, pretty: process.stdout.isTTY });
  let gateway;
  try {
    gateway = await startGatewayServer(config, {
      port: options.port,
      host: options.host,
      logger,
      // The same reading and validation as `detour check`: a reload refuses what check would.
      reloadConfig: () => loadConfigFile(options.config, { providerTypes: providerTypes() }),
    });
  } catch (error) {
    if (!(error instanceof BindRefusedError)) throw error;
    process.stderr.write(`detour: ${error.message}\n`);
    process.exit(2);
  }
  const reload = (trigger: string): void => {
    logger.info({ trigger, config: options.config }, 'reloading the config');
    void gateway.reload?.();
  };
  const stopWatching = config.server.watch_config ? watchConfigFile(options.config, () => reload('file changed')) : () => undefined;
  // Before anything is printed: whoever waits for the line may signal at once.
  process.on('SIGHUP', () => reload('SIGHUP'));
  onShutdown(async (signal) => {
    stopWatching();
    logger.info({ signal }, 'stopping: no new connections; requests in flight may finish');
    await gateway.close();
    logger.info({ ...gateway.server.shutdown }, 'stopped');
    await flushLogger(logger);
  });
  process.stdout.write(`listening on ${gateway.url}\n`);
  const requestLog = gateway.observability.requestLog;
  process.stdout.write(requestLog ? `request log: ${requestLog.location}\n` : 'request log: off (log.enabled: false)\n');
}
