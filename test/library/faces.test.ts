import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/index.js';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { startLibraryGateway } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/**
 * One engine, two faces: the same request, through the HTTP server and through `gateway.fetch`,
 * must get the same answer — status, `x-detour-*` headers and body (ids and timings aside).
 */
interface Scenario {
  name: string;
  path: '/v1/chat/completions' | '/v1/messages';
  body: Record<string, unknown>;
  faults?: { primary?: Array<Record<string, unknown>>; backup?: Array<Record<string, unknown>> };
}

const openAiAsk = (extra: Record<string, unknown> = {}) => ({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }], ...extra });
const anthropicAsk = (extra: Record<string, unknown> = {}) => ({ model: 'mixed', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }], ...extra });

const scenarios: Scenario[] = [
  { name: 'a plain answer', path: '/v1/chat/completions', body: openAiAsk() },
  { name: 'a failover after retries', path: '/v1/chat/completions', body: openAiAsk(), faults: { primary: [{ status: 529 }] } },
  { name: 'every target down', path: '/v1/chat/completions', body: openAiAsk(), faults: { primary: [{ status: 503 }], backup: [{ status: 401 }] } },
  { name: 'every target rate-limited', path: '/v1/chat/completions', body: openAiAsk(), faults: { primary: [{ status: 429, retry_after_s: 20 }], backup: [{ status: 429, retry_after_s: 7 }] } },
  { name: "an upstream's 400 passed on", path: '/v1/chat/completions', body: openAiAsk(), faults: { primary: [{ status: 400, error_code: 'invalid_value' }] } },
  { name: 'an invalid request', path: '/v1/chat/completions', body: { model: 'chat', messages: 'hi' } },
  { name: 'an unknown route', path: '/v1/chat/completions', body: openAiAsk({ model: 'nope' }) },
  { name: 'a stream with a failover', path: '/v1/chat/completions', body: openAiAsk({ stream: true, stream_options: { include_usage: true } }), faults: { primary: [{ status: 503 }] } },
  { name: 'a stream broken midway', path: '/v1/chat/completions', body: openAiAsk({ stream: true }), faults: { primary: [{ reset_after_chunks: 2 }] } },
  { name: 'a tool call', path: '/v1/chat/completions', body: openAiAsk({ tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] }) },
  { name: 'Anthropic in, OpenAI failing over to Anthropic', path: '/v1/messages', body: anthropicAsk(), faults: { primary: [{ status: 503 }] } },
  { name: 'an Anthropic stream translated from OpenAI', path: '/v1/messages', body: anthropicAsk({ model: 'chat', stream: true }) },
  { name: 'an invalid Anthropic request', path: '/v1/messages', body: { model: 'mixed', messages: [{ role: 'user', content: 'Hello' }] } },
];

function config(primary: Simulator, backup: Simulator): Record<string, unknown> {
  return {
    providers: { primary: openAiProvider(primary), backup: openAiProvider(backup), claude: anthropicProvider(backup.url) },
    models: {
      chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }], retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 }, timeout_ms: 3000, wait_for_recovery_ms: 0 },
      mixed: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'claude', model: 'claude-sim' }], retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 } },
    },
  };
}

interface Seen {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function read(response: Response): Promise<Seen> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name.startsWith('x-detour-') || name === 'retry-after' || name === 'content-type') headers[name] = value;
  });
  return { status: response.status, headers, body: normalize(await response.text()) };
}

/** Ids, clocks and durations differ between two runs of the same scenario; nothing else may. */
function normalize(text: string): string {
  return text
    .replace(/chatcmpl-sim[A-Za-z0-9]+/g, 'ID')
    .replace(/msg_[A-Za-z0-9]+/g, 'ID')
    .replace(/(call|toolu)_[A-Za-z0-9]+/g, 'CALL')
    .replace(/"created":\d+/g, '"created":0')
    .replace(/"durationMs":\d+/g, '"durationMs":0');
}

describe('the server and gateway.fetch answer alike', () => {
  let sims: { primary: Simulator; backup: Simulator };
  let server: RunningGateway;
  let library: Gateway;

  async function setup(): Promise<void> {
    sims = { primary: cleanup.add(await startSim()), backup: cleanup.add(await startSim({ answer: { text: 'from backup' } })) };
    server = cleanup.add(await startGateway(config(sims.primary, sims.backup)));
    library = cleanup.add(await startLibraryGateway(config(sims.primary, sims.backup)));
  }

  async function run(scenario: Scenario, send: (init: RequestInit) => Promise<Response>): Promise<Seen> {
    sims.primary.setPlan({ faults: scenario.faults?.primary ?? [] });
    sims.backup.setPlan({ faults: scenario.faults?.backup ?? [] });
    return read(await send({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(scenario.body) }));
  }

  it.each(scenarios)('$name', async (scenario) => {
    await setup();
    const overHttp = await run(scenario, (init) => fetch(`${server.url}${scenario.path}`, init));
    const inProcess = await run(scenario, (init) => library.fetch(`http://detour.local${scenario.path}`, init));
    expect(inProcess).toEqual(overHttp);
  });
});
