import { validateConfig } from '../../src/config/load.js';
import { providerTypes } from '../../src/providers/registry.js';
import { startGatewayServer, type GatewayServerOptions, type RunningGateway } from '../../src/server/gateway-server.js';
import { Simulator, type SimulatorOptions } from '../../src/sim/simulator.js';

/** Starts a simulator on an ephemeral loopback port. */
export async function startSim(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new Simulator(options);
  await sim.listen(0, '127.0.0.1');
  return sim;
}

/**
 * Starts the real gateway server on an ephemeral loopback port from a config object (YAML's shape).
 * The request log is off unless the config turns it on (tests must not write files into the repository).
 */
export async function startGateway(config: Record<string, unknown>, options: GatewayServerOptions = {}): Promise<RunningGateway> {
  // A short shutdown grace: a test that closes with a request still hanging does not wait the default 30 s.
  const server = { host: '127.0.0.1', port: 0, shutdown_grace_ms: 2000, ...(config.server as Record<string, unknown> | undefined) };
  const validated = validateConfig({ log: { enabled: false }, ...config, server }, { providerTypes: providerTypes(), env: {} });
  return startGatewayServer(validated, options);
}

/** An `openai`-type provider entry pointing at a simulator. */
export function openAiProvider(sim: Simulator, apiKey = 'sk-test-key-0001'): Record<string, unknown> {
  return { type: 'openai', base_url: `${sim.url}/v1`, api_key: apiKey };
}

/** A port nothing listens on: connections to it are refused. */
export async function deadPort(): Promise<number> {
  const sim = new Simulator();
  await sim.listen(0);
  const port = Number(new URL(sim.url).port);
  await sim.close();
  return port;
}

/** Collects resources to close after each test. */
export class Cleanup {
  private readonly tasks: Array<() => Promise<void> | void> = [];
  add<T extends { close(): Promise<void> | void }>(resource: T): T {
    this.tasks.push(() => resource.close());
    return resource;
  }
  async run(): Promise<void> {
    for (const task of this.tasks.splice(0).reverse()) await task();
  }
}

/** The official OpenAI client pointed at a gateway, with its own retries off. */
export async function openAiClient(url: string): Promise<import('openai').default> {
  const { default: OpenAI } = await import('openai');
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

/** A two-target route `chat` (primary then backup) with fast retries. */
export function twoTargetConfig(primary: Record<string, unknown>, backup: Record<string, unknown>, route: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    providers: { primary, backup },
    models: {
      chat: {
        targets: [
          { provider: 'primary', model: 'gpt-4o-mini' },
          { provider: 'backup', model: 'gpt-4o-mini' },
        ],
        retry: { attempts: 2, backoff_ms: 5, max_backoff_ms: 20 },
        ...route,
      },
    },
  };
}
