import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/index.js';
import { Cleanup } from '../helpers/gateway.js';
import { mixedFormatConfig, startLibraryGateway, startMixedSim, twoSimGateway, waitFor } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** The official clients, in process: any base URL, Detour's fetch, their own retries off. */
function openAi(gateway: Gateway): OpenAI {
  return new OpenAI({ apiKey: 'unused', baseURL: 'http://detour.local/v1', fetch: gateway.fetch, maxRetries: 0 });
}

function anthropic(gateway: Gateway): Anthropic {
  return new Anthropic({ apiKey: 'unused', baseURL: 'http://detour.local', fetch: gateway.fetch, maxRetries: 0 });
}

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };

describe('the OpenAI SDK on gateway.fetch', () => {
  it('fails over in the middle and reports it in the x-detour headers', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 529 }] });
    const { data, response } = await openAi(gateway).chat.completions.create(ask).withResponse();
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(response.headers.get('x-detour-attempts')).toBe('3');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(1);
  });

  it('streams, failing over before the first chunk', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, { first_token_timeout_ms: 200 });
    primary.setPlan({ faults: [{ stall_after_chunks: 0 }] });
    const { data, response } = await openAi(gateway).chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } }).withResponse();
    let text = '';
    let totalTokens = 0;
    for await (const chunk of data) {
      text += chunk.choices[0]?.delta.content ?? '';
      totalTokens = chunk.usage?.total_tokens ?? totalTokens;
    }
    expect(text).toBe('from backup');
    expect(totalTokens).toBeGreaterThan(0);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-detour-failover')).toBe('true');
  });

  it('sees a stream that breaks after it started as an error, never a clean end', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, { on_stream_failure: 'error' });
    primary.setPlan({ faults: [{ reset_after_chunks: 2 }] });
    const error = await (async () => {
      for await (const _chunk of await openAi(gateway).chat.completions.create({ ...ask, stream: true }));
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/STREAM_INTERRUPTED|ended its stream|reset/i);
  });

  it('gets the server’s error answers as the SDK’s error classes', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup);
    const client = openAi(gateway);
    const invalid = await client.chat.completions.create({ model: 'chat', messages: [] }).catch((caught: unknown) => caught);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect((invalid as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
    primary.setPlan({ faults: [{ status: 503 }] });
    backup.setPlan({ faults: [{ status: 503 }] });
    const down = (await client.chat.completions.create(ask).catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(down).toBeInstanceOf(OpenAI.InternalServerError);
    expect(down.status).toBe(503);
    expect(down.code).toBe('ALL_TARGETS_FAILED');
  });

  it('lists the routes as models', async () => {
    const { gateway } = await twoSimGateway(cleanup);
    const models = await openAi(gateway).models.list();
    expect(models.data.map((model) => model.id)).toEqual(['chat']);
  });

  it('cancels the upstream call when the SDK’s request is aborted', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, {}, 100);
    const controller = new AbortController();
    const stream = await openAi(gateway).chat.completions.create({ ...ask, stream: true }, { signal: controller.signal });
    let seen = 0;
    await (async () => {
      for await (const _chunk of stream) if (++seen === 2) controller.abort();
    })().catch(() => undefined);
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
    expect(primary.stats.inFlightCount).toBe(0);
  });

  it('times out a non-streaming call with the SDK’s own timeout, cancelling the upstream', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ hang: true }] });
    const error = await openAi(gateway).chat.completions.create(ask, { timeout: 200 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
  });
});

describe('the Anthropic SDK on gateway.fetch', () => {
  function text(message: Anthropic.Message): string {
    return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  }

  it('fails over from a down OpenAI target to an Anthropic one', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway(mixedFormatConfig(sim)));
    const { data, response } = await anthropic(gateway).messages.create({ model: 'resilient', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    expect(text(data)).toContain('Detour simulator');
    expect(response.headers.get('x-detour-provider')).toBe('claude');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(sim.stats.countFor('gpt-down')).toBe(2);
  });

  it('streams with a failover before the first event, which the SDK assembles', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway(mixedFormatConfig(sim)));
    const message = await anthropic(gateway).messages.stream({ model: 'resilient', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage();
    expect(text(message)).toContain('Detour simulator');
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(sim.stats.countFor('gpt-down')).toBe(2);
  });

  it('streams from an OpenAI upstream translated to Anthropic events', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway(mixedFormatConfig(sim)));
    const message = await anthropic(gateway).messages.stream({ model: 'gpt', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage();
    expect(text(message)).toContain('Detour simulator');
    expect(message.model).toBe('gpt-sim');
  });

  it('gets a bad request as the SDK’s BadRequestError with Detour’s code', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway(mixedFormatConfig(sim)));
    const request = { model: 'claude', messages: [{ role: 'user', content: 'Hello' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const error = await anthropic(gateway).messages.create(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).errorCode).toBe('INVALID_REQUEST');
    expect(sim.stats.requests).toBe(0);
  });
});

describe('gateway.fetch as an HTTP API', () => {
  it('answers unknown paths and methods as the server does, and refuses oversized bodies', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway({ ...mixedFormatConfig(sim), server: { max_body_bytes: 1000 } }));
    expect((await gateway.fetch('http://x/v1/nothing')).status).toBe(404);
    expect((await gateway.fetch('http://x/v1/chat/completions')).status).toBe(405);
    expect(await (await gateway.fetch('http://x/healthz')).json()).toEqual({ status: 'ok' });
    const big = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    const tooLarge = await gateway.fetch('http://x/v1/chat/completions', { method: 'POST', body: big });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    const asStream = await gateway.fetch(new Request('http://x/v1/chat/completions', { method: 'POST', body: new Blob([big]) }));
    expect(asStream.status).toBe(413);
    const notJson = await gateway.fetch('http://x/v1/messages', { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', details: { error_code: 'INVALID_JSON' } } });
    expect(sim.stats.requests).toBe(0);
  });

  it('takes a Request object and honours its x-request-id', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway(mixedFormatConfig(sim)));
    const request = new Request('http://x/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-7' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    const response = await gateway.fetch(request);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-7');
    expect(response.headers.get('x-detour-route')).toBe('gpt');
  });
});
