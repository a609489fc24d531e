import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { reserveTokens, worstCaseUsd } from '../../src/auth/cost-estimate.js';
import { ModelCatalog } from '../../src/core/model-catalog.js';
import { Cleanup, startGateway, startSim } from '../helpers/gateway.js';
import { WebhookReceiver } from '../observability/webhook-receiver.js';
import { createKey, keysConfig } from '../helpers/keys.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };
const askAnthropic = { model: 'chat', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hello' }] };

async function setup(extra: Parameters<typeof keysConfig>[1] = {}) {
  const sim = cleanup.add(await startSim());
  const gateway = cleanup.add(await startGateway(keysConfig(sim, extra)));
  const openai = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
  const anthropic = (apiKey: string) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 });
  return { sim, gateway, openai, anthropic };
}

async function caught(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError> & InstanceType<typeof Anthropic.APIError>> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof OpenAI.APIError) && !(error instanceof Anthropic.APIError)) throw new Error(`expected an API error, got ${String(error)}`);
  return error as InstanceType<typeof OpenAI.APIError> & InstanceType<typeof Anthropic.APIError>;
}

describe('virtual keys with the official SDKs', () => {
  it('serves a valid key from both SDKs and names it in the request statistics', async () => {
    const { gateway, openai, anthropic, sim } = await setup();
    const { key } = await createKey(gateway, { name: 'billing' });
    expect(key).toMatch(/^dtr_[A-Za-z0-9_-]{40,}$/);
    const answer = await openai(key).chat.completions.create(ask);
    expect(answer.choices[0]?.message.content).toBeTruthy();
    const message = await anthropic(key).messages.create(askAnthropic);
    expect(message.content[0]?.type).toBe('text');
    expect(sim.stats.requests).toBe(2);
    await gateway.observability.flush();
    const costs = (await (await fetch(`${gateway.url}/admin/api/costs`)).json()) as { by_key: Record<string, { requests: number }> };
    expect(costs.by_key.billing?.requests).toBe(2);
  });

  it('answers 401 in each format for a missing, unknown, revoked or expired key, and calls no upstream', async () => {
    const { gateway, openai, anthropic, sim } = await setup();
    const missing = await caught(new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { authorization: null } }).chat.completions.create(ask));
    expect(missing).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(missing.message).toMatch(/Detour key is required/);
    const unknown = await caught(openai('dtr_not-a-real-key-000000000000000000000').chat.completions.create(ask));
    expect(unknown).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unknown.code).toBe('UNAUTHORIZED');
    const anthropicUnknown = await caught(anthropic('dtr_not-a-real-key-000000000000000000000').messages.create(askAnthropic));
    expect(anthropicUnknown).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((anthropicUnknown.error as { error: { type: string } }).error.type).toBe('authentication_error');

    const revoked = await createKey(gateway, { name: 'gone' });
    const deleted = await fetch(`${gateway.url}/admin/api/keys/${revoked.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as { status: string }).status).toBe('revoked');
    const revokedError = await caught(openai(revoked.key).chat.completions.create(ask));
    expect(revokedError).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(revokedError.message).toMatch(/"gone" has been revoked/);
    expect(await caught(anthropic(revoked.key).messages.create(askAnthropic))).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(sim.stats.requests).toBe(0);
  });

  it('rejects an expired config key with 401 and serves a live one', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway(
        keysConfig(sim, {
          auth: {
            keys: [
              { name: 'old', key: 'config-key-expired-0123456789', expires_at: '2020-01-01T00:00:00Z' },
              { name: 'live', key: 'config-key-live-0123456789ab' },
            ],
          },
        }),
      ),
    );
    const client = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
    const expired = await caught(client('config-key-expired-0123456789').chat.completions.create(ask));
    expect(expired).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(expired.message).toMatch(/expired at 2020-01-01T00:00:00.000Z/);
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'config-key-expired-0123456789', maxRetries: 0 });
    expect(await caught(anthropic.messages.create(askAnthropic))).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((await client('config-key-live-0123456789ab').chat.completions.create(ask)).choices).toHaveLength(1);
    expect(sim.stats.requests).toBe(1);
  });

  it('answers 403 for a route outside the key scope, in each format', async () => {
    const { gateway, openai, anthropic, sim } = await setup();
    const { key } = await createKey(gateway, { name: 'scoped', routes: ['other'] });
    const error = await caught(openai(key).chat.completions.create(ask));
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error.message).toMatch(/may not call "chat" \(allowed: other\)/);
    const anthropicError = await caught(anthropic(key).messages.create(askAnthropic));
    expect(anthropicError).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(sim.stats.requests).toBe(0);
    expect((await openai(key).chat.completions.create({ ...ask, model: 'other' })).choices).toHaveLength(1);
  });

  it('answers 429 with retry-after past the rpm limit, in each format', async () => {
    const { gateway, openai, anthropic, sim } = await setup();
    const { key } = await createKey(gateway, { name: 'slow', rpm: 2 });
    await openai(key).chat.completions.create(ask);
    await anthropic(key).messages.create(askAnthropic);
    const error = await caught(openai(key).chat.completions.create(ask));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.message).toMatch(/limited to 2 requests per minute/);
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
    const anthropicError = await caught(anthropic(key).messages.create(askAnthropic));
    expect(anthropicError).toBeInstanceOf(Anthropic.RateLimitError);
    expect(anthropicError.headers?.get('retry-after')).toBeTruthy();
    expect(sim.stats.requests).toBe(2);
  });

  it('answers 429 past the tpm limit', async () => {
    const { gateway, openai } = await setup();
    const { key } = await createKey(gateway, { name: 'tokens', tpm: 5 });
    // The first request is admitted (nothing used yet) and settles to its actual tokens, more than the minute allows.
    const first = await openai(key).chat.completions.create({ ...ask, max_tokens: 200 });
    expect(first.usage?.total_tokens).toBeGreaterThan(5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const error = await caught(openai(key).chat.completions.create({ ...ask, max_tokens: 10 }));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.message).toMatch(/5 tokens per minute/);
    expect(error.headers?.get('retry-after')).toBeTruthy();
  });

  it('answers 429 past max_parallel while requests are in flight, and frees the slot when one ends', async () => {
    const { gateway, openai, anthropic, sim } = await setup();
    const { key } = await createKey(gateway, { name: 'narrow', max_parallel: 1 });
    sim.setPlan({ faults: [{ latency_ms: 400, times: 1 }] });
    const slow = openai(key).chat.completions.create(ask);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const error = await caught(openai(key).chat.completions.create(ask));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.message).toMatch(/at most 1 requests in flight/);
    expect(error.headers?.get('retry-after')).toBe('1');
    expect(await caught(anthropic(key).messages.create(askAnthropic))).toBeInstanceOf(Anthropic.RateLimitError);
    await slow;
    // Settlement runs just after the request's end.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await openai(key).chat.completions.create(ask)).choices).toHaveLength(1);
  });

  it('refuses a spent budget with 402, which neither SDK retries, naming the budget and its reset', async () => {
    const { gateway, sim } = await setup();
    const { key } = await createKey(gateway, { name: 'capped', budget_usd: 0.0001, period: 'day' });
    // A request reserves its max_tokens of gpt-4o-mini output ($0.60 per million): far over the budget.
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 2 });
    const error = await caught(openai.chat.completions.create({ ...ask, max_tokens: 1_000_000 }));
    expect(error.status).toBe(402);
    expect(error.code).toBe('BUDGET_EXCEEDED');
    expect(error.message).toMatch(/daily budget of \$0\.000100 for the Detour key "capped" is spent/);
    expect(error.message).toMatch(/resets at \d{4}-\d{2}-\d{2}T00:00:00\.000Z/);
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 2 });
    const anthropicError = await caught(anthropic.messages.create({ ...askAnthropic, max_tokens: 20_000 }));
    expect(anthropicError.status).toBe(402);
    expect((anthropicError.error as { error: { type: string; message: string } }).error.type).toBe('billing_error');
    expect(anthropicError.message).toMatch(/resets at/);
    // maxRetries: 2, yet one call each: a 402 is not retried. And no upstream saw them.
    expect(sim.stats.requests).toBe(0);
    // A request that fits is served.
    expect((await openai.chat.completions.create({ ...ask, max_tokens: 5 })).choices).toHaveLength(1);
  });

  it('rotates a key: the new secret works, the old one during its overlap only', async () => {
    const { gateway, openai } = await setup();
    const { key, id } = await createKey(gateway, { name: 'rotating' });
    const rotated = await fetch(`${gateway.url}/admin/api/keys/${id}/rotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ overlap: '1h' }) });
    expect(rotated.status).toBe(200);
    const body = (await rotated.json()) as { key: string; id: string; previous_key_expires_at: string };
    expect(body.id).toBe(id);
    expect(body.key).not.toBe(key);
    expect((await openai(body.key).chat.completions.create(ask)).choices).toHaveLength(1);
    expect((await openai(key).chat.completions.create(ask)).choices).toHaveLength(1);
    const again = await fetch(`${gateway.url}/admin/api/keys/${id}/rotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const third = (await again.json()) as { key: string };
    expect(await caught(openai(body.key).chat.completions.create(ask))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await caught(openai(key).chat.completions.create(ask))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await openai(third.key).chat.completions.create(ask)).choices).toHaveLength(1);
  });

  it('lists keys with usage and headroom, never their secrets or hashes', async () => {
    const { gateway, openai } = await setup();
    const { key } = await createKey(gateway, { name: 'listed', rpm: 10, budget_usd: 5, period: 'month' });
    await openai(key).chat.completions.create(ask);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await gateway.observability.flush();
    const response = await fetch(`${gateway.url}/admin/api/keys`);
    const text = await response.text();
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(8));
    const listed = (JSON.parse(text) as { data: Array<Record<string, unknown>> }).data.find((entry) => entry.name === 'listed') as { usage: { requests_last_minute: number; headroom: { rpm: number }; spent_usd: number; period_resets_at: string }; last_24h: { requests: number } };
    expect(listed.usage.requests_last_minute).toBe(1);
    expect(listed.usage.headroom.rpm).toBe(9);
    expect(listed.usage.spent_usd).toBeGreaterThan(0);
    expect(listed.usage.period_resets_at).toMatch(/-01T00:00:00.000Z$/);
    expect(listed.last_24h.requests).toBe(1);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/detour_client_key_limit\{client_key="listed",limit="rpm"\} 10/);
    expect(metrics).toMatch(/detour_client_key_usage\{client_key="listed",limit="rpm"\} 1/);
    expect(metrics).toMatch(/detour_client_key_budget_usd\{client_key="listed",period="month"\} 5/);
    expect(metrics).toMatch(/detour_client_key_requests_total\{client_key="listed",outcome="success",code="none"\} 1/);
    const audit = (await (await fetch(`${gateway.url}/admin/api/audit`)).json()) as { data: Array<{ action: string }> };
    expect(audit.data.map((entry) => entry.action)).toContain('key.created');
  });

  it('binds a key to named upstream keys so its spend lands on that account', async () => {
    const sim = cleanup.add(await startSim());
    const providers = { primary: { type: 'openai', base_url: `${sim.url}/v1`, api_keys: [{ name: 'team-a', key: 'sk-team-a-0000000001' }, { name: 'team-b', key: 'sk-team-b-0000000002' }] } };
    const gateway = cleanup.add(await startGateway(keysConfig(sim, { providers })));
    const { key } = await createKey(gateway, { name: 'team-b-service', upstream_keys: ['primary.team-b'] });
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
    for (let index = 0; index < 4; index++) await client.chat.completions.create(ask);
    expect(sim.stats.countForKey('sk-team-b-0000000002')).toBe(4);
    expect(sim.stats.countForKey('sk-team-a-0000000001')).toBe(0);
    const refused = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', upstream_keys: ['primary.team-z'] }) });
    expect(refused.status).toBe(400);
  });

  it('raises a budget alert at 80 % and at 100 %, once each', async () => {
    const webhook = cleanup.add(await new WebhookReceiver().listen());
    const sim = cleanup.add(await startSim());
    const alerting = cleanup.add(await startGateway({ ...keysConfig(sim), alerts: { sinks: [{ type: 'webhook', name: 'ops', url: webhook.url }] } }));
    const probe = await createKey(alerting, { name: 'probe' });
    const small = { ...ask, max_tokens: 12 };
    const usage = (await new OpenAI({ baseURL: `${alerting.url}/v1`, apiKey: probe.key, maxRetries: 0 }).chat.completions.create(small)).usage;
    const perRequestUsd = new ModelCatalog().cost('gpt-4o-mini', { promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0 }) ?? 0;
    // The budget covers one worst-case reservation, and one request's actual cost is over 80 % of it.
    const worstUsd = worstCaseUsd(reserveTokens(small), ['gpt-4o-mini'], new ModelCatalog());
    expect(perRequestUsd / (worstUsd * 1.05)).toBeGreaterThan(0.8);
    const { key } = await createKey(alerting, { name: 'alerted', budget_usd: worstUsd * 1.05, period: 'day' });
    const client = new OpenAI({ baseURL: `${alerting.url}/v1`, apiKey: key, maxRetries: 0 });
    await client.chat.completions.create(small);
    await webhook.received(1);
    expect(webhook.bodies[0]).toMatchObject({ type: 'key_budget', severity: 'warning', key: 'key_budget:alerted:80' });
    const refused = await caught(client.chat.completions.create(small));
    expect(refused.status).toBe(402);
    await webhook.received(2);
    expect(webhook.bodies[1]).toMatchObject({ type: 'key_budget', severity: 'critical', key: 'key_budget:alerted:100' });
    await caught(client.chat.completions.create(small));
    await alerting.observability.flush();
    expect(webhook.bodies).toHaveLength(2);
  });
});
