import { setTimeout as sleep } from 'node:timers/promises';
import type { Simulator } from '../sim/simulator.js';

/**
 * The demo's life: a few clients calling the gateway (some streaming) and, every few minutes,
 * a scripted incident on the primary, so that the dashboard has traffic, a failover, an open
 * circuit and a recovery to show without anyone lifting a finger.
 */
export interface DemoScript {
  stop(): Promise<void>;
}

const prompts = ['Summarise the incident report.', 'Translate "hello" to French.', 'Write a haiku about failover.', 'What is a circuit breaker?'];

async function client(url: string, index: number, signal: AbortSignal): Promise<void> {
  for (let request = 0; !signal.aborted; request++) {
    const body = { model: 'chat', stream: request % 3 === 0, stream_options: request % 3 === 0 ? { include_usage: true } : undefined, messages: [{ role: 'user', content: prompts[(index + request) % prompts.length] }] };
    try {
      const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
      await response.arrayBuffer();
    } catch {
      // The demo is ending, or the gateway is: nothing to report.
    }
    await sleep(250 + Math.random() * 500, undefined, { signal }).catch(() => undefined);
  }
}

/** Every `everyMs`: the primary refuses connections for `downMs`, starting `firstAfterMs` in. */
function incidents(primary: Simulator, options: { firstAfterMs: number; downMs: number; everyMs: number }): NodeJS.Timeout {
  const plan = (): void =>
    primary.setPlan({
      faults: [{ status: 429, probability: 0.005, retry_after_ms: 200 }, { latency_ms: { p50: '80ms', p99: '700ms' } }],
      timeline: [{ at: `${options.firstAfterMs}ms`, for: `${options.downMs}ms`, fault: { down: true } }],
    });
  plan();
  return setInterval(plan, options.everyMs).unref();
}

export function startDemoScript(url: string, primary: Simulator, options = { clients: 3, firstAfterMs: 45_000, downMs: 60_000, everyMs: 240_000 }): DemoScript {
  const controller = new AbortController();
  const loops = Array.from({ length: options.clients }, (_, index) => client(url, index, controller.signal));
  const timer = incidents(primary, options);
  return {
    async stop() {
      clearInterval(timer);
      controller.abort();
      await Promise.all(loops);
    },
  };
}
