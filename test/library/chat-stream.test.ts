import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError, type ChatCompletionChunk, type ChatCompletionRequest, type ResultStream } from '../../src/index.js';
import { Cleanup } from '../helpers/gateway.js';
import { twoSimGateway, waitFor } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask: ChatCompletionRequest = { model: 'chat', messages: [{ role: 'user', content: 'Hello' }] };

async function collect(stream: ResultStream<ChatCompletionChunk>): Promise<{ text: string; chunks: ChatCompletionChunk[] }> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { text: chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), chunks };
}

describe('gateway.chatStream', () => {
  it('yields parsed chunks, and usage only when asked for', async () => {
    const { gateway } = await twoSimGateway(cleanup);
    const plain = await collect(await gateway.chatStream(ask));
    expect(plain.text).toContain('Detour simulator');
    expect(plain.chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(plain.chunks.some((chunk) => chunk.usage)).toBe(false);
    expect(plain.chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    const withUsage = await collect(await gateway.chatStream({ ...ask, stream_options: { include_usage: true } }));
    expect(withUsage.chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('fails over invisibly when the first token does not come in time, and says who served', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { first_token_timeout_ms: 200 });
    primary.setPlan({ faults: [{ stall_after_chunks: 0 }] });
    const stream = await gateway.chatStream(ask);
    expect(stream.served).toMatchObject({ provider: 'backup', isFailover: true, upstreamCalls: 2 });
    expect(stream.served.attempts[0]?.code).toBe('UPSTREAM_FIRST_BYTE_TIMEOUT');
    expect((await collect(stream)).text).toBe('from backup');
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it('fails over invisibly when the primary errors before the stream starts', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 503 }] });
    expect((await collect(await gateway.chatStream(ask))).text).toBe('from backup');
  });

  it('rejects before any chunk when every target fails', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { wait_for_recovery_ms: 0 });
    primary.setPlan({ faults: [{ status: 503 }] });
    backup.setPlan({ faults: [{ status: 503 }] });
    const error = await gateway.chatStream(ask).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 503, code: 'ALL_TARGETS_FAILED' });
  });

  it('throws STREAM_INTERRUPTED-class errors after the chunks a stalled stream gave, never a clean end', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { stream_idle_timeout_ms: 200, on_stream_failure: 'error' });
    primary.setPlan({ faults: [{ stall_after_chunks: 3 }] });
    const received: string[] = [];
    const error = await (async () => {
      for await (const chunk of await gateway.chatStream(ask)) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((caught: unknown) => caught);
    expect(received).toHaveLength(3);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 502, code: 'UPSTREAM_STREAM_IDLE_TIMEOUT' });
    expect((error as GatewayError).message).toMatch(/stalled/);
    expect(backup.stats.requests).toBe(0);
  });

  it('throws when the upstream connection drops midway', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, { on_stream_failure: 'error' });
    primary.setPlan({ faults: [{ reset_after_chunks: 2 }] });
    const error = await (async () => {
      for await (const _chunk of await gateway.chatStream(ask));
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('STREAM_INTERRUPTED');
  });

  it('hands chunks over as they arrive rather than buffering the answer', async () => {
    const { gateway } = await twoSimGateway(cleanup, {}, 80);
    const arrivals: number[] = [];
    for await (const _chunk of await gateway.chatStream(ask)) arrivals.push(Date.now());
    expect(arrivals.length).toBeGreaterThanOrEqual(8);
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(400);
  });

  it('cancels the upstream request when the loop is left early', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, {}, 100);
    let seen = 0;
    for await (const _chunk of await gateway.chatStream(ask)) if (++seen === 2) break;
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
    expect(primary.stats.inFlightCount).toBe(0);
  });

  it('a loop left at the very first chunk still ends the stream: in-flight back to zero, the request announced', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, {}, 100);
    const finished: Array<{ status: number; errorCode?: string | undefined }> = [];
    gateway.on('request.finished', (event) => finished.push(event));
    for (let i = 0; i < 3; i++) {
      for await (const _chunk of await gateway.chatStream(ask)) break;
    }
    await waitFor(() => finished.length === 3 && primary.stats.inFlightCount === 0);
    expect(finished.map((event) => [event.status, event.errorCode])).toEqual(Array.from({ length: 3 }, () => [499, 'CLIENT_CLOSED']));
    expect(gateway.targets().find((target) => target.id === 'primary/gpt-4o-mini')?.inFlight).toBe(0);
    expect(primary.stats.inFlightCount).toBe(0);
  });

  it('cancel() stops a stream whose upstream has gone silent, at once', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, { stream_idle_timeout_ms: 10_000 });
    primary.setPlan({ faults: [{ stall_after_chunks: 2 }] });
    const stream = await gateway.chatStream(ask);
    const reading = (async () => {
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await stream.cancel();
    expect((await reading).length).toBe(2);
    expect(Date.now() - started).toBeLessThan(1000);
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
  });

  it('rejects the read with the caller’s abort reason and cancels the upstream call', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, {}, 100);
    const controller = new AbortController();
    let seen = 0;
    const error = await (async () => {
      for await (const _chunk of await gateway.chatStream(ask, { signal: controller.signal })) if (++seen === 2) controller.abort();
    })().catch((caught: unknown) => caught);
    expect((error as DOMException).name).toBe('AbortError');
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
  });

  it('can be iterated only once', async () => {
    const { gateway } = await twoSimGateway(cleanup);
    const stream = await gateway.chatStream(ask);
    await collect(stream);
    await expect(collect(stream)).rejects.toThrow(/only once/);
  });
});
