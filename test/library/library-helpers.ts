import { createGateway, type Gateway, type GatewayConfig } from '../../src/index.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { openAiProvider, startSim, twoTargetConfig, type Cleanup } from '../helpers/gateway.js';

/** An in-process gateway from a config object, with no environment to interpolate from. */
export async function startLibraryGateway(config: Record<string, unknown>): Promise<Gateway> {
  return createGateway(config as GatewayConfig, { env: {} });
}

/** A primary and a backup simulator behind a two-target route `chat`, as the server's tests use. */
export async function twoSimGateway(cleanup: Cleanup, route: Record<string, unknown> = {}, primaryChunkDelayMs = 0): Promise<{ primary: Simulator; backup: Simulator; gateway: Gateway }> {
  const primary = cleanup.add(await startSim({ chunkDelayMs: primaryChunkDelayMs }));
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  const gateway = cleanup.add(await startLibraryGateway(twoTargetConfig(openAiProvider(primary, 'sk-primary-secret-key-123456'), openAiProvider(backup), route)));
  return { primary, backup, gateway };
}

/**
 * One simulator speaking both formats behind routes of each upstream format, and `resilient`:
 * an OpenAI target that answers 503 in front of an Anthropic backup.
 */
export function mixedFormatConfig(sim: Simulator): Record<string, unknown> {
  return {
    providers: { claude: anthropicProvider(sim.url), gpt: openAiProvider(sim) },
    models: {
      claude: { targets: [{ provider: 'claude', model: 'claude-sim' }] },
      gpt: { targets: [{ provider: 'gpt', model: 'gpt-sim' }] },
      resilient: { targets: [{ provider: 'gpt', model: 'gpt-down' }, { provider: 'claude', model: 'claude-backup' }], retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 } },
    },
  };
}

/** A simulator whose `gpt-down` model answers 503, for `mixedFormatConfig`. */
export function startMixedSim(cleanup: Cleanup): Promise<Simulator> {
  return startSim({ plan: { faults: [{ model: 'gpt-down', status: 503 }] } }).then((sim) => cleanup.add(sim));
}

/** Polls until `condition` holds or `timeoutMs` passes (for effects that land after a response). */
export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!condition() && Date.now() - started < timeoutMs) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Handles (sockets, servers, timers, files) active now that were not in `before`, by kind; the runner's own come and go. */
export function addedResources(before: readonly string[]): string[] {
  const remaining = new Map<string, number>();
  for (const kind of before) remaining.set(kind, (remaining.get(kind) ?? 0) + 1);
  const added: string[] = [];
  for (const kind of process.getActiveResourcesInfo()) {
    const count = remaining.get(kind) ?? 0;
    if (count > 0) remaining.set(kind, count - 1);
    else added.push(kind);
  }
  return added;
}
