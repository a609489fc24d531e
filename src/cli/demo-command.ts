import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../observability/logger.js';
import { startGatewayServer } from '../server/gateway-server.js';
import { Simulator } from '../sim/simulator.js';
import { demoConfig } from './demo-config.js';
import { startDemoScript } from './demo-traffic.js';
import { onShutdown } from './load.js';
import { setHeapGrowth } from './heap-growth.js';

/**
 * `npm start`: the gateway in front of two simulators, with nothing to install or configure,
 * under steady traffic and a scripted incident every few minutes, so the dashboard has
 * something to show.
 */
export async function runDemo(options: { port: number; host: string; traffic?: boolean; logLevel?: string; heapGrowth?: number }): Promise<void> {
  setHeapGrowth(options.heapGrowth ?? 0);
  const primary = new Simulator({ chunkDelayMs: 30 });
  const backup = new Simulator({
    chunkDelayMs: 30,
    answer: { text: 'Hello from the backup simulator: the primary could not answer, so Detour failed over.' },
    plan: { faults: [{ latency_ms: { p50: '150ms', p99: '900ms' } }] },
  });
  const [primaryUrl, backupUrl] = await Promise.all([primary.listen(0), backup.listen(0)]);
  // The demo's request log lives in the temp folder, not wherever `npm start` was run.
  const logPath = join(tmpdir(), 'detour-demo-requests.sqlite');
  const config = demoConfig(primaryUrl, backupUrl, options.port, options.host, logPath);
  // Quiet by default, so the instructions above stay on screen; `--log-level info` shows every request.
  const logger = createLogger({ level: options.logLevel ?? 'warn', pretty: process.stdout.isTTY });
  const gateway = await startGatewayServer(config, { logger });
  const url = gateway.url;
  const script = options.traffic === false ? undefined : startDemoScript(url, primary);
  process.stdout.write(
    [
      `listening on ${url}`,
      '',
      `  Dashboard:   ${url}/dashboard`,
      `  Status page: ${url}/status`,
      `  Metrics:     ${url}/metrics`,
      '',
      'Detour is running in front of two simulated providers (no API keys, no network).',
      `  primary simulator: ${primaryUrl}   backup simulator: ${backupUrl}`,
      script ? '  Demo traffic is flowing; the primary goes down 45 s from now for a minute, and again every 4 minutes.' : '',
      `  Request log: ${logPath}`,
      '',
      'Call it:',
      `  curl ${url}/v1/chat/completions -H 'content-type: application/json' \\`,
      `    -d '{"model":"chat","messages":[{"role":"user","content":"Hello"}]}' -i`,
      '',
      'Or with the openai SDK:',
      `  new OpenAI({ baseURL: '${url}/v1', apiKey: 'unused' })`,
      '',
      'Take the primary down yourself and watch the request survive (x-detour-failover: true):',
      `  curl -X POST ${primaryUrl}/_sim/down -d '{"for_ms":30000}'`,
      '',
    ].join('\n'),
  );
  onShutdown(async () => {
    await script?.stop();
    await gateway.close();
    await Promise.all([primary.close(), backup.close()]);
  });
}
