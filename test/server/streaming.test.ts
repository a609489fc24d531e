import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim, twoTargetConfig } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', stream: true as const, messages: [{ role: 'user' as const, content: 'Hello' }] };

async function setup(route: Record<string, unknown> = {}, primaryChunkDelayMs = 0) {
  const primary = cleanup.add(await startSim({ chunkDelayMs: primaryChunkDelayMs }));
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  const gateway = cleanup.add(await startGateway(twoTargetConfig(openAiProvider(primary), openAiProvider(backup), route)));
  return { primary, backup, gateway, client: await openAiClient(gateway.url) };
}

async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<{ text: string; chunks: OpenAI.ChatCompletionChunk[] }> {
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { text: chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), chunks };
}

describe('streaming', () => {
  it('pipes the stream and omits usage unless the client asks', async () => {
    const { client } = await setup();
    const { text, chunks } = await collect(await client.chat.completions.create(ask));
    expect(text).toContain('Detour simulator');
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('delivers usage with stream_options.include_usage', async () => {
    const { client } = await setup();
    const { chunks } = await collect(await client.chat.completions.create({ ...ask, stream_options: { include_usage: true } }));
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('fails over invisibly when the first token does not come in time', async () => {
    const { primary, backup, client } = await setup({ first_token_timeout_ms: 200 });
    primary.setPlan({ faults: [{ stall_after_chunks: 0 }] });
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    const { text } = await collect(data);
    expect(text).toBe('from backup');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it('fails over invisibly when the primary errors before the stream starts', async () => {
    const { primary, client } = await setup();
    primary.setPlan({ faults: [{ status: 503 }] });
    const { text } = await collect(await client.chat.completions.create(ask));
    expect(text).toBe('from backup');
  });

  it('ends a stream that stalls after it started with an explicit error event (on_stream_failure: error)', async () => {
    const { primary, backup, client } = await setup({ stream_idle_timeout_ms: 200, on_stream_failure: 'error' });
    primary.setPlan({ faults: [{ stall_after_chunks: 3 }] });
    const received: string[] = [];
    const error = await (async () => {
      for await (const chunk of await client.chat.completions.create(ask)) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((caught: unknown) => caught);
    expect(received.length).toBe(3);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/stalled/);
    expect(backup.stats.requests).toBe(0);
  });

  it('ends a stream whose connection drops midway with an explicit error event, never a clean end (on_stream_failure: error)', async () => {
    const { primary, client } = await setup({ on_stream_failure: 'error' });
    primary.setPlan({ faults: [{ reset_after_chunks: 2 }] });
    const error = await (async () => {
      for await (const _chunk of await client.chat.completions.create(ask));
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/STREAM_INTERRUPTED|ended its stream|reset/i);
  });

  it('sends each chunk as it arrives rather than buffering the answer', async () => {
    const { client } = await setup({}, 80);
    const arrivals: number[] = [];
    for await (const _chunk of await client.chat.completions.create(ask)) arrivals.push(Date.now());
    // Eight content chunks paced 80 ms apart upstream must reach the client spread out, not in one burst.
    expect(arrivals.length).toBeGreaterThanOrEqual(8);
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(400);
  });

  it('cancels the upstream request when the client disconnects', async () => {
    const { primary, client } = await setup({}, 100);
    const controller = new AbortController();
    const stream = await client.chat.completions.create(ask, { signal: controller.signal });
    let seen = 0;
    await (async () => {
      for await (const _chunk of stream) {
        if (++seen === 2) controller.abort();
      }
    })().catch(() => undefined);
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
    expect(primary.stats.inFlightCount).toBe(0);
  });

  it('cancels a hung upstream request when the client gives up before any byte', async () => {
    const { primary, client } = await setup();
    primary.setPlan({ faults: [{ hang: true }] });
    const error = await client.chat.completions.create({ ...ask, stream: false }, { timeout: 200 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!condition() && Date.now() - started < timeoutMs) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('streams whose upstream lingers after the end marker', () => {
  it('ends the client`s stream at [DONE], without waiting for the upstream to close', async () => {
    const { createServer } = await import('node:http');
    const lingering = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      response.write(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hi' }) + chunk({}, 'stop') + 'data: [DONE]\n\n');
      // Never ends the response: some proxies keep the body open after the last event.
    });
    await new Promise<void>((resolve) => lingering.listen(0, '127.0.0.1', resolve));
    const port = (lingering.address() as { port: number }).port;
    cleanup.add({ close: () => new Promise<void>((resolve) => { lingering.closeAllConnections(); lingering.close(() => resolve()); }) });
    const gateway = cleanup.add(await startGateway({
      providers: { lingering: { type: 'openai', base_url: `http://127.0.0.1:${port}/v1`, api_key: 'sk-x' } },
      models: { chat: { targets: [{ provider: 'lingering', model: 'm' }], stream_idle_timeout_ms: 5000 } },
    }));
    const client = await openAiClient(gateway.url);
    const started = Date.now();
    const { text } = await collect(await client.chat.completions.create(ask));
    expect(text).toBe('Hi');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
