import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../../src/library/create-gateway.js';
import { Cleanup, openAiProvider, startGateway, startSim, twoTargetConfig } from '../helpers/gateway.js';
import { OtlpReceiver, spanKind, type ReceivedSpan } from './otlp-receiver.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const prompt = 'Tell me the secret plan, verbatim';
const collectorToken = 'collector-token-7f3a9c1e55';
const clientTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientSpanId = '00f067aa0ba902b7';
const clientTraceparent = `00-${clientTraceId}-${clientSpanId}-01`;

/** Spans reach the receiver only when the gateway flushes them (at shutdown): one long interval makes every test deterministic. */
function telemetry(receiver: OtlpReceiver, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { otlp_endpoint: receiver.url, service_name: 'detour-under-test', headers: { authorization: `Bearer ${collectorToken}` }, export_interval_ms: 600_000, ...extra };
}

async function setup(options: { route?: Record<string, unknown>; telemetry?: Record<string, unknown> | false; logLines?: string[] } = {}) {
  const receiver = cleanup.add(await new OtlpReceiver().listen());
  const primary = cleanup.add(await startSim({ capture: 10 }));
  const backup = cleanup.add(await startSim({ capture: 10, answer: { text: 'from backup' } }));
  const config = twoTargetConfig(openAiProvider(primary, 'sk-primary-secret-key-123456'), openAiProvider(backup, 'sk-backup-secret-key-654321'), options.route);
  if (options.telemetry !== false) config.telemetry = telemetry(receiver, options.telemetry);
  const lines = options.logLines;
  const logger = lines ? pino({ level: 'debug', base: undefined }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) })) : undefined;
  const gateway = cleanup.add(await startGateway(config, logger ? { logger } : {}));
  return { receiver, primary, backup, gateway };
}

function client(url: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: headers });
}

function only<T>(items: readonly T[], what: string): T {
  expect(items, what).toHaveLength(1);
  return items[0] as T;
}

function traceparentOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers.traceparent;
  return Array.isArray(value) ? value.join(',') : value;
}

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  it('a failover is one SERVER span with two CLIENT attempt spans, the GenAI attributes on each, continuing the client trace to the upstream', async () => {
    const { receiver, primary, backup, gateway } = await setup();
    primary.setPlan({ faults: [{ status: 401 }] });
    const openai = client(gateway.url, { traceparent: clientTraceparent, tracestate: 'vendor=abc,other=1' });
    const { data, response } = await openai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: prompt }], max_tokens: 50, temperature: 0.2 }).withResponse();
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    await gateway.close();

    const spans = receiver.trace(clientTraceId);
    expect(spans).toHaveLength(3);
    const server = only(spans.filter((span) => span.kind === spanKind.server), 'request span');
    const attempts = spans.filter((span) => span.kind === spanKind.client).sort((a, b) => Number(a.attributes['detour.attempt']) - Number(b.attributes['detour.attempt']));
    expect(attempts).toHaveLength(2);
    const [failed, served] = attempts as [ReceivedSpan, ReceivedSpan];

    // The request span is the client's span's child; the attempts are the request span's.
    expect(server.parentSpanId).toBe(clientSpanId);
    expect(failed.parentSpanId).toBe(server.spanId);
    expect(served.parentSpanId).toBe(server.spanId);
    expect(server.name).toBe('chat chat');
    expect(server.resource['service.name']).toBe('detour-under-test');
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'chat',
      'gen_ai.response.model': data.model,
      'gen_ai.response.id': data.id,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': data.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': data.usage?.completion_tokens,
      'http.response.status_code': 200,
      'detour.route': 'chat',
      'detour.target': 'backup/gpt-4o-mini',
      'detour.failover': true,
      'detour.attempts': 2,
    });
    expect(server.attributes['error.type']).toBeUndefined();

    expect(failed.name).toBe('chat gpt-4o-mini');
    expect(failed.statusCode).toBe(2);
    expect(failed.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(primary.url).port),
      'http.response.status_code': 401,
      'error.type': 'UPSTREAM_AUTH_FAILED',
      'detour.target': 'primary/gpt-4o-mini',
      'detour.attempt': 1,
      'detour.failover': false,
      'detour.circuit_state': 'closed',
    });
    expect(failed.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(served.attributes).toMatchObject({
      'server.port': Number(new URL(backup.url).port),
      'http.response.status_code': 200,
      'detour.target': 'backup/gpt-4o-mini',
      'detour.attempt': 2,
      'detour.failover': true,
      'gen_ai.response.model': data.model,
      'gen_ai.usage.output_tokens': data.usage?.completion_tokens,
    });
    expect(served.attributes['error.type']).toBeUndefined();
    // The attempts lie inside the request, one after the other.
    expect(failed.startMs).toBeGreaterThanOrEqual(server.startMs);
    expect(served.startMs).toBeGreaterThanOrEqual(failed.endMs);
    expect(served.endMs).toBeLessThanOrEqual(server.endMs);

    // Each upstream received the trace, with its own attempt span as the parent, and the client's tracestate.
    const primaryCall = only(primary.captured.filter((request) => request.path.endsWith('/chat/completions')), 'primary call');
    const backupCall = only(backup.captured.filter((request) => request.path.endsWith('/chat/completions')), 'backup call');
    expect(traceparentOf(primaryCall.headers)).toBe(`00-${clientTraceId}-${failed.spanId}-01`);
    expect(traceparentOf(backupCall.headers)).toBe(`00-${clientTraceId}-${served.spanId}-01`);
    expect(backupCall.headers.tracestate).toBe('vendor=abc,other=1');

    // The collector got its header; no prompt, answer or key in anything sent to it.
    const exported = receiver.requests.map((request) => request.body).join('\n');
    expect(receiver.requests.every((request) => request.headers.authorization === `Bearer ${collectorToken}`)).toBe(true);
    for (const secret of [prompt, 'from backup', 'sk-primary-secret-key-123456', 'sk-backup-secret-key-654321', collectorToken]) expect(exported).not.toContain(secret);
  });

  it('without a traceparent a new trace starts; its id reaches the upstream, the request span is the root', async () => {
    const { receiver, primary, gateway } = await setup();
    await client(gateway.url).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: prompt }] });
    await gateway.close();
    const server = only(receiver.spans.filter((span) => span.kind === spanKind.server), 'request span');
    const attempt = only(receiver.spans.filter((span) => span.kind === spanKind.client), 'attempt span');
    expect(server.parentSpanId).toBeUndefined();
    expect(server.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(attempt.traceId).toBe(server.traceId);
    expect(attempt.parentSpanId).toBe(server.spanId);
    expect(traceparentOf((primary.captured.at(-1) as { headers: Record<string, string | string[] | undefined> }).headers)).toBe(`00-${server.traceId}-${attempt.spanId}-01`);
  });

  it('an invalid traceparent is not continued: a new trace starts', async () => {
    const { receiver, gateway } = await setup();
    // Upper-case hex is invalid in version 00.
    await client(gateway.url, { traceparent: `00-${clientTraceId.toUpperCase()}-${clientSpanId}-01` }).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await gateway.close();
    const server = only(receiver.spans.filter((span) => span.kind === spanKind.server), 'request span');
    expect(server.traceId).not.toBe(clientTraceId);
    expect(server.parentSpanId).toBeUndefined();
  });

  it("a client's unsampled trace is continued to the upstream but not recorded", async () => {
    const { receiver, primary, gateway } = await setup();
    await client(gateway.url, { traceparent: `00-${clientTraceId}-${clientSpanId}-00` }).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await gateway.close();
    expect(receiver.spans).toHaveLength(0);
    const sent = traceparentOf((primary.captured.at(-1) as { headers: Record<string, string | string[] | undefined> }).headers);
    expect(sent).toMatch(new RegExp(`^00-${clientTraceId}-[0-9a-f]{16}-00$`));
  });

  it('a translated stream: the attempt span lasts until the stream ended and carries the answer model, finish reason and usage', async () => {
    const { receiver, gateway } = await setup();
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0, defaultHeaders: { traceparent: clientTraceparent } });
    const stream = anthropic.messages.stream({ model: 'chat', max_tokens: 64, messages: [{ role: 'user', content: prompt }] });
    const message = await stream.finalMessage();
    await gateway.close();
    const spans = receiver.trace(clientTraceId);
    const server = only(spans.filter((span) => span.kind === spanKind.server), 'request span');
    const attempt = only(spans.filter((span) => span.kind === spanKind.client), 'attempt span');
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'chat',
      'gen_ai.request.stream': true,
      'gen_ai.request.max_tokens': 64,
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': message.usage.input_tokens,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
    });
    expect(typeof server.attributes['gen_ai.response.time_to_first_chunk']).toBe('number');
    expect(attempt.attributes['gen_ai.usage.output_tokens']).toBe(message.usage.output_tokens);
    expect(attempt.endMs).toBe(server.endMs);
  });

  it('streams passed through in their own format (OpenAI, Anthropic) carry the answer model, id, finish reasons and usage too', async () => {
    const receiver = cleanup.add(await new OtlpReceiver().listen());
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway({
        providers: { oa: openAiProvider(sim), an: { type: 'anthropic', base_url: sim.url, api_key: 'sk-ant-test-key-0001' } },
        models: { chat: { targets: [{ provider: 'oa', model: 'gpt-4o-mini' }] }, claude: { targets: [{ provider: 'an', model: 'claude-sonnet-4-5' }] } },
        telemetry: telemetry(receiver),
      }),
    );
    const openaiTrace = '11111111111111111111111111111111';
    const anthropicTrace = '22222222222222222222222222222222';
    const chunks = await client(gateway.url, { traceparent: `00-${openaiTrace}-${clientSpanId}-01` }).chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: prompt }] });
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    let model: string | undefined;
    let id: string | undefined;
    for await (const chunk of chunks) {
      usage = chunk.usage ?? usage;
      model ??= chunk.model;
      id ??= chunk.id;
    }
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0, defaultHeaders: { traceparent: `00-${anthropicTrace}-${clientSpanId}-01` } });
    const message = await anthropic.messages.stream({ model: 'claude', max_tokens: 32, messages: [{ role: 'user', content: prompt }] }).finalMessage();
    await gateway.close();

    const openaiSpan = only(receiver.trace(openaiTrace).filter((span) => span.kind === spanKind.client), 'openai call');
    expect(openaiSpan.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.model': model,
      'gen_ai.response.id': id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': usage?.completion_tokens,
    });
    const anthropicSpan = only(receiver.trace(anthropicTrace).filter((span) => span.kind === spanKind.client), 'anthropic call');
    expect(anthropicSpan.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.response.model': message.model,
      'gen_ai.response.id': message.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': message.usage.input_tokens,
      'gen_ai.usage.output_tokens': message.usage.output_tokens,
    });
  });

  it('a stream that breaks and is continued elsewhere: the broken call ends with its error, the continuation is marked', async () => {
    const { receiver, primary, backup, gateway } = await setup();
    primary.setPlan({ faults: [{ reset_after_chunks: 3 }] });
    const chunks = await client(gateway.url, { traceparent: clientTraceparent }).chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: prompt }] });
    for await (const chunk of chunks) expect(chunk).toBeDefined();
    await gateway.close();
    expect(backup.stats.requests).toBe(1);
    const spans = receiver.trace(clientTraceId);
    const server = only(spans.filter((span) => span.kind === spanKind.server), 'request span');
    const calls = spans.filter((span) => span.kind === spanKind.client).sort((a, b) => a.startMs - b.startMs);
    expect(calls.map((span) => span.attributes['detour.target'])).toEqual(['primary/gpt-4o-mini', 'backup/gpt-4o-mini']);
    const [broken, continued] = calls as [ReceivedSpan, ReceivedSpan];
    expect(broken.statusCode).toBe(2);
    expect(typeof broken.attributes['error.type']).toBe('string');
    expect(broken.endMs).toBeLessThanOrEqual(continued.startMs);
    expect(continued.attributes).toMatchObject({ 'detour.continuation': true, 'detour.failover': false });
    expect(continued.attributes['error.type']).toBeUndefined();
    expect(server.attributes).toMatchObject({ 'detour.continuations': 1, 'detour.target': 'backup/gpt-4o-mini' });
    expect(continued.endMs).toBe(server.endMs);
  });

  it('a hedge is its own call span, marked, beside the slow first call', async () => {
    const { receiver, primary, gateway } = await setup({ route: { hedge: { after_ms: 50 } } });
    primary.setPlan({ faults: [{ latency_ms: 2000 }] });
    const answer = await client(gateway.url, { traceparent: clientTraceparent }).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: prompt }] });
    expect(answer.choices[0]?.message.content).toBe('from backup');
    await gateway.close();
    const calls = receiver.trace(clientTraceId).filter((span) => span.kind === spanKind.client);
    const hedge = only(calls.filter((span) => span.attributes['detour.hedge'] === true), 'hedge span');
    expect(hedge.attributes).toMatchObject({ 'detour.target': 'backup/gpt-4o-mini', 'gen_ai.response.model': answer.model });
    const first = only(calls.filter((span) => span.attributes['detour.target'] === 'primary/gpt-4o-mini'), 'first call');
    expect(first.attributes['error.type']).toBe('CANCELLED');
  });

  it('an embeddings call is an embeddings span, with its dimensions and encoding format', async () => {
    const receiver = cleanup.add(await new OtlpReceiver().listen());
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(
      await startGateway({ providers: { oa: openAiProvider(sim) }, models: { embed: { kind: 'embeddings', targets: [{ provider: 'oa', model: 'text-embedding-3-small' }] } }, telemetry: telemetry(receiver) }),
    );
    const answer = await client(gateway.url, { traceparent: clientTraceparent }).embeddings.create({ model: 'embed', input: prompt, dimensions: 256, encoding_format: 'float' });
    expect(answer.data[0]?.embedding).toHaveLength(256);
    await gateway.close();
    const spans = receiver.trace(clientTraceId);
    const server = only(spans.filter((span) => span.kind === spanKind.server), 'request span');
    const call = only(spans.filter((span) => span.kind === spanKind.client), 'call span');
    expect(server.name).toBe('embeddings embed');
    expect(call.name).toBe('embeddings text-embedding-3-small');
    for (const span of [server, call]) {
      expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.embeddings.dimension.count': 256, 'gen_ai.request.encoding_formats': ['float'] });
      expect(span.attributes['gen_ai.request.stream']).toBeUndefined();
    }
    expect(server.attributes['gen_ai.usage.input_tokens']).toBe(answer.usage.prompt_tokens);
    expect(traceparentOf((sim.captured.at(-1) as { headers: Record<string, string | string[] | undefined> }).headers)).toBe(`00-${clientTraceId}-${call.spanId}-01`);
  });

  it('a failed request: error.type on the request span (5xx is an error status), every attempt recorded', async () => {
    const { receiver, primary, backup, gateway } = await setup({ route: { retry: { attempts: 1 }, wait_for_recovery_ms: 0 } });
    primary.setPlan({ faults: [{ status: 500 }] });
    backup.setPlan({ faults: [{ status: 500 }] });
    const error = await client(gateway.url).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    await gateway.close();
    const server = only(receiver.spans.filter((span) => span.kind === spanKind.server), 'request span');
    expect(server.statusCode).toBe(2);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(server.attributes).toMatchObject({ 'error.type': 'ALL_TARGETS_FAILED', 'http.response.status_code': 503, 'detour.attempts': 2 });
    const attempts = receiver.spans.filter((span) => span.kind === spanKind.client);
    expect(attempts.map((span) => span.attributes['error.type'])).toEqual(['UPSTREAM_SERVER_ERROR', 'UPSTREAM_SERVER_ERROR']);
  });

  it('a request refused before any upstream call is a span too, with its error.type', async () => {
    const { receiver, gateway } = await setup();
    const error = await client(gateway.url, { traceparent: clientTraceparent }).chat.completions.create({ model: 'no-such-route', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    await gateway.close();
    const server = only(receiver.trace(clientTraceId), 'request span');
    expect(server.kind).toBe(spanKind.server);
    expect(server.attributes).toMatchObject({ 'error.type': 'ROUTE_NOT_FOUND', 'http.response.status_code': 404 });
    expect(server.statusCode).not.toBe(2);
  });

  it('with telemetry off the client traceparent passes to the upstream unchanged', async () => {
    const { receiver, primary, gateway } = await setup({ telemetry: false });
    await client(gateway.url, { traceparent: clientTraceparent, tracestate: 'vendor=abc' }).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await gateway.close();
    const call = primary.captured.at(-1) as { headers: Record<string, string | string[] | undefined> };
    expect(traceparentOf(call.headers)).toBe(clientTraceparent);
    expect(call.headers.tracestate).toBe('vendor=abc');
    expect(receiver.requests).toHaveLength(0);
  });

  it('exports in batches while running, and a collector that fails is logged once (never its header), requests unaffected', async () => {
    const lines: string[] = [];
    const { receiver, gateway } = await setup({ telemetry: { export_interval_ms: 50 }, logLines: lines });
    const openai = client(gateway.url);
    await openai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await vi.waitFor(() => expect(receiver.spans.length).toBeGreaterThanOrEqual(2), { timeout: 20_000, interval: 50 });
    receiver.failWith = 400;
    for (let index = 0; index < 3; index++) {
      const answer = await openai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.choices[0]?.message.content).toBeTruthy();
    }
    await vi.waitFor(() => expect(lines.some((line) => line.includes('exporting spans failed'))).toBe(true), { timeout: 20_000, interval: 50 });
    await gateway.close();
    const warnings = lines.filter((line) => line.includes('exporting spans failed'));
    expect(warnings).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(collectorToken);
  });

  it('works in the library (createGateway), flushed when the gateway closes', async () => {
    const receiver = cleanup.add(await new OtlpReceiver().listen());
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = await createGateway(
      { providers: { sim: openAiProvider(sim) as { type: string; base_url: string } }, models: { chat: { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } }, log: { enabled: false }, telemetry: telemetry(receiver) },
      { env: {} },
    );
    const openai = new OpenAI({ apiKey: 'unused', baseURL: 'http://detour.invalid/v1', fetch: gateway.fetch, maxRetries: 0, defaultHeaders: { traceparent: clientTraceparent } });
    await openai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: prompt }] });
    await gateway.close();
    const spans = receiver.trace(clientTraceId);
    expect(spans.map((span) => span.kind).sort()).toEqual([spanKind.server, spanKind.client]);
    const attempt = only(spans.filter((span) => span.kind === spanKind.client), 'attempt span');
    expect(traceparentOf((sim.captured.at(-1) as { headers: Record<string, string | string[] | undefined> }).headers)).toBe(`00-${clientTraceId}-${attempt.spanId}-01`);
  });

  it("the library's typed methods take the caller's trace context too", async () => {
    const receiver = cleanup.add(await new OtlpReceiver().listen());
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = await createGateway(
      { providers: { sim: openAiProvider(sim) as { type: string; base_url: string } }, models: { chat: { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } }, log: { enabled: false }, telemetry: telemetry(receiver) },
      { env: {} },
    );
    const { served } = await gateway.chat({ model: 'chat', messages: [{ role: 'user', content: prompt }] }, { traceparent: clientTraceparent, tracestate: 'vendor=abc' });
    await gateway.close();
    const server = only(receiver.trace(clientTraceId).filter((span) => span.kind === spanKind.server), 'request span');
    expect(server.parentSpanId).toBe(clientSpanId);
    expect(server.attributes['detour.request_id']).toBe(served.requestId);
    expect(sim.captured.at(-1)?.headers.tracestate).toBe('vendor=abc');
  });
});
