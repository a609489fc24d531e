import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim, twoTargetConfig } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };

async function setup(route: Record<string, unknown> = {}) {
  const primary = cleanup.add(await startSim());
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  const gateway = cleanup.add(await startGateway(twoTargetConfig(openAiProvider(primary, 'sk-primary-secret-key-123456'), openAiProvider(backup), route)));
  return { primary, backup, gateway, client: await openAiClient(gateway.url) };
}

describe('retry and failover', () => {
  it('retries a 500 on the same target and succeeds there', async () => {
    const { primary, backup, client } = await setup();
    primary.setPlan({ faults: [{ status: 500, times: 1 }] });
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    expect(data.choices[0]?.message.content).toContain('Detour simulator');
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    expect(response.headers.get('x-detour-failover')).toBe('false');
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(0);
  });

  it('retries 529 and 503, then fails over to the backup', async () => {
    const { primary, backup, client } = await setup();
    primary.setPlan({ faults: [{ status: 529 }] });
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(response.headers.get('x-detour-attempts')).toBe('3');
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(1);
  });

  it.each([
    [401, 'a bad key'],
    [403, 'a forbidden key'],
    [404, 'an unknown model'],
  ])('fails over on %i (%s) without retrying that target', async (status) => {
    const { primary, backup, client } = await setup();
    primary.setPlan({ faults: [{ status }] });
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it('answers a 400 as it is, never retried, no other target called', async () => {
    const { primary, backup, client } = await setup();
    primary.setPlan({ faults: [{ status: 400, error_code: 'invalid_value', error_message: "Invalid value for 'temperature'." }] });
    const error = await client.chat.completions.create(ask).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("Invalid value for 'temperature'");
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_value');
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(0);
  });

  it('a 429 fails over at once while the backup can answer, and the key cools down until its retry-after', async () => {
    const { primary, backup, gateway, client } = await setup({ retry: { attempts: 2, backoff_ms: 5, max_backoff_ms: 1000 } });
    primary.setPlan({ faults: [{ status: 429, retry_after_ms: 300, times: 1 }] });
    const { response } = await client.chat.completions.create(ask).withResponse();
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    expect(primary.stats.requests).toBe(1);
    // The primary's key said "not for 300 ms": every request skips it until then.
    const primaryState = () => gateway.engine.targets().find((target) => target.id === 'primary/gpt-4o-mini');
    expect(primaryState()?.circuit).toBe('open');
    const skipped = await client.chat.completions.create(ask).withResponse();
    if (primaryState()?.circuit === 'open') {
      expect(skipped.response.headers.get('x-detour-provider')).toBe('backup');
      expect(skipped.response.headers.get('x-detour-attempts')).toBe('1');
    }
    // Once the retry-after is over, the primary gets its traffic back.
    await new Promise((resolve) => setTimeout(resolve, 350));
    const back = await client.chat.completions.create(ask).withResponse();
    expect(back.response.headers.get('x-detour-provider')).toBe('primary');
    expect(backup.stats.requests).toBeGreaterThanOrEqual(1);
  });

  it('waits out a 429 on the only target when its retry-after fits the deadline', async () => {
    const primary = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway({ providers: { primary: openAiProvider(primary) }, models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }], retry: { attempts: 2, backoff_ms: 5, max_backoff_ms: 1000 } } } }),
    );
    const client = await openAiClient(gateway.url);
    primary.setPlan({ faults: [{ status: 429, retry_after_ms: 150, times: 1 }] });
    const started = Date.now();
    const { response } = await client.chat.completions.create(ask).withResponse();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.headers.get('x-detour-provider')).toBe('primary');
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    expect(primary.stats.requests).toBe(2);
  });

  it('fails over at once on a 429 whose retry-after is longer than the longest backoff while a backup could answer', async () => {
    const { primary, backup, client } = await setup({ timeout_ms: 60_000, retry: { attempts: 2, backoff_ms: 5, max_backoff_ms: 1000 } });
    primary.setPlan({ faults: [{ status: 429, retry_after_s: 20 }] });
    const started = Date.now();
    const { response } = await client.chat.completions.create(ask).withResponse();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it('fails over at once on a 429 whose retry-after does not fit the deadline', async () => {
    const { primary, backup, client } = await setup({ timeout_ms: 5000 });
    primary.setPlan({ faults: [{ status: 429, retry_after_s: 30 }] });
    const started = Date.now();
    const { response } = await client.chat.completions.create(ask).withResponse();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it('a hung upstream costs at most attempt_timeout_ms before the next target', async () => {
    const { primary, backup, client } = await setup({ attempt_timeout_ms: 300 });
    primary.setPlan({ faults: [{ hang: true }] });
    const started = Date.now();
    const { response } = await client.chat.completions.create(ask).withResponse();
    const elapsed = Date.now() - started;
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2500);
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it('answers 504 when the deadline runs out, within the deadline', async () => {
    const { primary, backup, client } = await setup({ timeout_ms: 400, attempt_timeout_ms: 300 });
    primary.setPlan({ faults: [{ hang: true }] });
    backup.setPlan({ faults: [{ hang: true }] });
    const started = Date.now();
    const error = await client.chat.completions.create(ask).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('answers 503 listing every attempt, with no secret, when all targets are down', async () => {
    const { primary, backup, gateway } = await setup({ wait_for_recovery_ms: 0 });
    primary.setPlan({ faults: [{ status: 503 }] });
    backup.setPlan({ faults: [{ status: 401 }] });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask) });
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toContain('sk-primary-secret');
    expect(text).not.toContain('sk-test-key');
    const body = JSON.parse(text) as { error: { code: string; attempts: Array<{ target: string; status: number; code: string; durationMs: number }> } };
    expect(body.error.code).toBe('ALL_TARGETS_FAILED');
    expect(body.error.attempts.map((attempt) => [attempt.target, attempt.status, attempt.code])).toEqual([
      ['primary/gpt-4o-mini', 503, 'UPSTREAM_OVERLOADED'],
      ['primary/gpt-4o-mini', 503, 'UPSTREAM_OVERLOADED'],
      ['backup/gpt-4o-mini', 401, 'UPSTREAM_AUTH_FAILED'],
    ]);
    for (const attempt of body.error.attempts) expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
    for (const value of response.headers.values()) expect(value).not.toContain('sk-');
  });

  it('answers 429 with retry-after when every target is rate-limited', async () => {
    const { primary, backup, client } = await setup({ timeout_ms: 3000 });
    primary.setPlan({ faults: [{ status: 429, retry_after_s: 20 }] });
    backup.setPlan({ faults: [{ status: 429, retry_after_s: 7 }] });
    const error = (await client.chat.completions.create(ask).catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.headers?.get('retry-after')).toBe('7');
  });

  it('addresses one target directly as provider/model when server.direct_addressing is on and the provider lists the model', async () => {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const config = twoTargetConfig(openAiProvider(primary), { ...openAiProvider(backup), models: ['gpt-4o*'] });
    const gateway = cleanup.add(await startGateway({ ...config, server: { host: '127.0.0.1', port: 0, direct_addressing: true } }));
    const client = await openAiClient(gateway.url);
    const { data, response } = await client.chat.completions.create({ ...ask, model: 'backup/gpt-4o' }).withResponse();
    expect(data.model).toBe('gpt-4o');
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(primary.stats.requests).toBe(0);
  });

  it('passes tool calls through', async () => {
    const { client } = await setup();
    const data = await client.chat.completions.create({
      ...ask,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    const call = data.choices[0]?.message.tool_calls?.[0];
    expect(data.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
  });

  it('lists routes as models', async () => {
    const { client } = await setup();
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['chat']);
  });
});
