import { createLogger } from '../observability/logger.js';
import { startGatewayServer } from '../server/gateway-server.js';
import { Simulator } from '../sim/simulator.js';
import { demoConfig } from './demo-config.js';
import { onShutdown } from './load.js';

/** `npm start`: the gateway in front of two simulators, with nothing to install or configure. */
export async function runDemo(options: { port: number; host: string }): Promise<void> {
  const primary = new Simulator({ chunkDelayMs: 30 });
  const backup = new Simulator({ chunkDelayMs: 30, answer: { text: 'Hello from the backup simulator: the primary could not answer, so Detour failed over.' } });
  const [primaryUrl, backupUrl] = await Promise.all([primary.listen(0), backup.listen(0)]);
  const config = demoConfig(primaryUrl, backupUrl, options.port, options.host);
  const logger = createLogger({ level: 'info', pretty: process.stdout.isTTY });
  const gateway = await startGatewayServer(config, { logger });
  const url = gateway.url;
  process.stdout.write(
    [
      `listening on ${url}`,
      '',
      'Detour is running in front of two simulated providers (no API keys, no network).',
      `  primary simulator: ${primaryUrl}   backup simulator: ${backupUrl}`,
      '',
      'Call it:',
      `  curl ${url}/v1/chat/completions -H 'content-type: application/json' \\`,
      `    -d '{"model":"chat","messages":[{"role":"user","content":"Hello"}]}' -i`,
      '',
      'Or with the openai SDK:',
      `  new OpenAI({ baseURL: '${url}/v1', apiKey: 'unused' })`,
      '',
      'Take the primary down and watch the request survive (x-detour-failover: true):',
      `  curl -X POST ${primaryUrl}/_sim/down -d '{"for_ms":30000}'`,
      '',
    ].join('\n'),
  );
  onShutdown(async () => {
    await gateway.close();
    await Promise.all([primary.close(), backup.close()]);
  });
}
