import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { defaultAnswerStyle } from '../../src/sim/answer.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

/** A continued stream is visible where operators look: the request log (and its admin API), /metrics and the live feed. */
let broken: Simulator;
let backup: Simulator;
let gateway: RunningGateway;
let directory: string;

beforeAll(async () => {
  broken = await startSim({ plan: { faults: [{ reset_after_chunks: 3 }] } });
  backup = await startSim();
  directory = mkdtempSync(join(tmpdir(), 'detour-continued-log-'));
  gateway = await startGateway({
    breaker: { failure_threshold: 1000, minimum_requests: 1000 },
    providers: { broken: openAiProvider(broken, 'sk-broken-0000000000001'), backup: openAiProvider(backup, 'sk-backup-0000000000001') },
    models: { chat: { targets: [{ provider: 'broken', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }] } },
    log: { path: join(directory, 'requests.sqlite'), flush_interval_ms: 10 },
  });
});
afterAll(async () => {
  await gateway.close();
  await Promise.all([broken.close(), backup.close()]);
  rmSync(directory, { recursive: true, force: true });
});

async function admin(path: string): Promise<string> {
  const response = await fetch(`${gateway.url}${path}`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('a continued stream', () => {
  let requestId: string | null = null;

  it('is served whole', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(defaultAnswerStyle.text);
    requestId = response.headers.get('x-request-id');
  });

  it('is in the request log with how often it was continued and from which target to which', async () => {
    type Logged = { id: string; continuation: { count: number; targets: string[] } | null; attempts: Array<{ role: string | null }> };
    await expect
      .poll(async () => (JSON.parse(await admin('/admin/api/requests')) as { data: Logged[] }).data.find((entry) => entry.id === requestId)?.continuation, { timeout: 10_000 })
      .toEqual({ count: 1, targets: ['broken/gpt-4o-mini', 'backup/gpt-4o-mini'] });
    const recent = JSON.parse(await admin('/admin/api/recent')) as { data: Logged[] } | Logged[];
    const entries = Array.isArray(recent) ? recent : recent.data;
    expect(entries.find((entry) => entry.id === requestId)?.continuation).toEqual({ count: 1, targets: ['broken/gpt-4o-mini', 'backup/gpt-4o-mini'] });
  });

  it('is counted in /metrics and told in the live feed', async () => {
    const metrics = await admin('/metrics');
    expect(metrics).toMatch(/^detour_stream_continuations_total\{route="chat",from="broken\/gpt-4o-mini",to="backup\/gpt-4o-mini",code="[A-Z_]+"\} 1$/m);
    expect(gateway.observability.feed.recent().find((event) => event.type === 'continued')).toMatchObject({ target: 'broken/gpt-4o-mini', data: { from: 'broken/gpt-4o-mini', to: 'backup/gpt-4o-mini' } });
  });
});
