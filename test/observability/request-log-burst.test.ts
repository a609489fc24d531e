import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const body = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] });

/** One request on its own connection (no keep-alive): a burst of these is a burst of connections. */
function postOnNewConnection(url: string): Promise<number> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', () => resolve(0));
    outgoing.end(body);
  });
}

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('the request log under a burst', () => {
  it('keeps every record of 2,000 simultaneous connections, nothing dropped', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'detour-burst-'));
    cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: openAiProvider(sim) },
        models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
        log: { enabled: true, path: join(folder, 'requests.sqlite') },
      }),
    );
    const rounds = 1;
    const connections = 2000;
    let answered = 0;
    for (let round = 0; round < rounds; round++) {
      const statuses = await Promise.all(Array.from({ length: connections }, () => postOnNewConnection(gateway.url)));
      answered += statuses.filter((status) => status > 0).length;
    }
    await gateway.observability.flush();
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    // Every request that got an answer (a connection refused by the OS never became one) is in the log.
    expect(answered).toBeGreaterThan(rounds * connections * 0.5);
    expect(metric(metrics, 'detour_request_log_dropped_total')).toBe(0);
    expect(metric(metrics, 'detour_request_log_written_total')).toBe(answered);
    const page = (await (await fetch(`${gateway.url}/admin/api/requests?limit=5`)).json()) as { data: unknown[] };
    expect(page.data).toHaveLength(5);
  }, 240_000);
});
