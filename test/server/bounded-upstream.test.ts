import { afterEach, describe, expect, it } from 'vitest';
import { BadUpstream, writeForever, type BadAnswer } from '../helpers/bad-upstream.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim, twoTargetConfig } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };
const mib = 1024 * 1024;

async function setup(answer: BadAnswer, route: Record<string, unknown> = {}) {
  const bad = cleanup.add(await new BadUpstream(answer).listen());
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  const gateway = cleanup.add(await startGateway(twoTargetConfig({ type: 'openai', base_url: `${bad.url}/v1`, api_key: 'sk-bad-upstream-key-000001' }, openAiProvider(backup), route)));
  return { bad, backup, gateway, client: await openAiClient(gateway.url) };
}

/**
 * Runs `work` while sampling this process's RSS (the gateway runs in it) and calling /healthz
 * back to back; returns the peak growth and the health answers (each one's status).
 */
async function watched<T>(gatewayUrl: string, work: () => Promise<T>): Promise<{ value: T; peakGrowthBytes: number; health: number[]; healthMs: number[] }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const health: number[] = [];
  const healthMs: number[] = [];
  let isDone = false;
  const prober = (async () => {
    while (!isDone) {
      const startedAt = performance.now();
      const response = await fetch(`${gatewayUrl}/healthz`);
      await response.text();
      health.push(response.status);
      healthMs.push(performance.now() - startedAt);
    }
  })();
  try {
    const value = await work();
    return { value, peakGrowthBytes: peak - baseline, health, healthMs };
  } finally {
    isDone = true;
    await prober;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe('hostile upstream bodies are bounded', () => {
  it('an endless JSON answer is cut at server.max_upstream_body_bytes and fails over; memory stays bounded, /healthz keeps answering', async () => {
    const { bad, backup, gateway, client } = await setup((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"choices":[{"message":{"content":"');
      writeForever(response, Buffer.alloc(64 * 1024, 'x'));
    });
    const run = await watched(gateway.url, async () => client.chat.completions.create(ask));
    expect(run.value.choices[0]?.message.content).toBe('from backup');
    expect(backup.stats.requests).toBe(1);
    // The default cap is 32 MiB; what the upstream got out is that plus socket buffers, not gigabytes.
    expect(bad.bytesSent).toBeLessThan(48 * mib);
    expect(run.peakGrowthBytes).toBeLessThan(200 * mib);
    expect(run.health.length).toBeGreaterThan(0);
    expect(run.health.every((status) => status === 200)).toBe(true);
    console.log(`endless JSON: upstream sent ${(bad.bytesSent / mib).toFixed(1)} MiB, RSS peak +${(run.peakGrowthBytes / mib).toFixed(0)} MiB, /healthz p50 ${median(run.healthMs).toFixed(1)} ms over ${run.health.length}`);
  });

  it('a stream without newlines is refused at the event cap before the client saw a byte, and fails over', async () => {
    const { bad, backup, gateway, client } = await setup((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: ');
      writeForever(response, Buffer.alloc(64 * 1024, 'x'));
    });
    const run = await watched(gateway.url, async () => {
      let text = '';
      for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    });
    expect(run.value).toBe('from backup');
    expect(backup.stats.requests).toBe(1);
    expect(bad.bytesSent).toBeLessThan(24 * mib);
    expect(run.peakGrowthBytes).toBeLessThan(200 * mib);
    expect(run.health.length).toBeGreaterThan(0);
    expect(run.health.every((status) => status === 200)).toBe(true);
    console.log(`newline-free stream: upstream sent ${(bad.bytesSent / mib).toFixed(1)} MiB, RSS peak +${(run.peakGrowthBytes / mib).toFixed(0)} MiB, /healthz p50 ${median(run.healthMs).toFixed(1)} ms over ${run.health.length}`);
  });

  it('10 MB events are refused; after the stream started, the client gets an explicit error event, not a clean end', async () => {
    const big = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${'y'.repeat(10 * mib)}"},"finish_reason":null}]}\n\n`;
    const first = 'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n';
    const { bad, gateway } = await setup((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(first);
      let sent = 0;
      const next = (): void => {
        if (sent++ >= 5 || response.destroyed) return void response.end();
        if (response.write(big)) setImmediate(next);
        else response.once('drain', next);
      };
      next();
      // With the default (continue), the stream would be finished by the backup; this is about the explicit end.
    }, { on_stream_failure: 'error' });
    const run = await watched(gateway.url, async () => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ask, stream: true }) });
      return response.text();
    });
    expect(run.value).toContain('"content":"Hi"');
    expect(run.value).toMatch(/data: \{"error":\{[^\n]*larger than 8388608 bytes/);
    expect(run.value).not.toContain('[DONE]');
    expect(bad.bytesSent).toBeLessThan(40 * mib);
    expect(run.peakGrowthBytes).toBeLessThan(250 * mib);
    expect(run.health.every((status) => status === 200)).toBe(true);
  });
});
