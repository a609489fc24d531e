import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { RequestFinishedEvent } from '../../src/core/events.js';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, startGateway, startSim } from '../helpers/gateway.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }], max_tokens: 20 };

function openAi(gateway: RunningGateway, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: headers });
}

/** Sends `count` requests open-loop, one every `everyMs`, and waits for every answer. */
async function paced<T>(count: number, everyMs: number, send: (index: number) => Promise<T>): Promise<Array<PromiseSettledResult<T>>> {
  const pending: Array<Promise<T>> = [];
  for (let index = 0; index < count; index++) {
    pending.push(send(index));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return Promise.allSettled(pending);
}

function upstreamCalls(sims: readonly Simulator[], since: number) {
  const calls = sims.flatMap((sim) => sim.stats.recent().filter((call) => call.startedAt >= since));
  return { total: calls.length, limited: calls.filter((call) => call.status === 429).length };
}

describe('rate-limit-ceiling: the simulator enforces an rpm per key, Detour learns it from the headers', () => {
  it('sends twice one key’s capacity across three keys: after the first 2 s upstream 429s stay ≤ 1 % and every client request succeeds', async () => {
    // 600 rpm per key, enforced as 10 per second (as providers quantize a minute's limit); demand 20 per second.
    const sim = cleanup.add(await startSim({ plan: { faults: [{ rate_limit_rpm: 600, rate_limit_window_ms: 1000 }] } }));
    const provider = (key: string) => ({ type: 'openai', base_url: `${sim.url}/v1`, api_key: key });
    // Fallback order puts all traffic on the first key until it is full: only the learned limits spread it before a 429.
    const gateway = cleanup.add(
      await startGateway({
        providers: { first: provider('sk-ceiling-key-0001'), second: provider('sk-ceiling-key-0002'), third: provider('sk-ceiling-key-0003') },
        models: { chat: { strategy: 'fallback', retry: { attempts: 1 }, targets: [{ provider: 'first', model: 'm' }, { provider: 'second', model: 'm' }, { provider: 'third', model: 'm' }] } },
      }),
    );
    const client = openAi(gateway);
    const startedAt = Date.now();
    // Learned limits expire with the provider's window (1 s here), so they are read while traffic flows, not after it.
    const learnedSeen: string[] = [];
    const results = await paced(160, 50, (index) => {
      if (index % 10 === 9) for (const target of gateway.engine.targets()) for (const limit of target.limits) if (limit.source === 'learned') learnedSeen.push(`${target.id} ${limit.kind}`);
      return client.chat.completions.create(ask);
    });
    const failures = results.filter((result) => result.status === 'rejected');
    expect(failures.map((failure) => String((failure as PromiseRejectedResult).reason))).toEqual([]);
    const after = upstreamCalls([sim], startedAt + 2000);
    expect(after.total).toBeGreaterThan(50);
    if (process.env.DETOUR_TEST_FIGURES) console.log('ceiling', { ...after, all: upstreamCalls([sim], 0), byKey: [1, 2, 3].map((n) => sim.stats.countForKey(`sk-ceiling-key-000${n}`)) });
    expect(after.limited / after.total).toBeLessThanOrEqual(0.01);
    // The first key carried its share (the limits spread the excess, they did not just avoid it), and every call is accounted for.
    expect(sim.stats.countForKey('sk-ceiling-key-0001')).toBeGreaterThan(50);
    expect([1, 2, 3].reduce((sum, n) => sum + sim.stats.countForKey(`sk-ceiling-key-000${n}`), 0)).toBe(upstreamCalls([sim], 0).total);
    // What Detour learnt showed per target while it applied.
    expect(learnedSeen.length).toBeGreaterThan(0);
  }, 60_000);
});

describe('a route at 2× its declared capacity queues instead of failing', () => {
  it('for 10 s with a 30 s queue timeout: every client request succeeds, and high requests wait less than low ones', async () => {
    const sim = cleanup.add(await startSim({ plan: { faults: [{ rate_limit_rpm: 60 }] } }));
    // Two keys of 60 rpm each, paced as 10 per 10 s each: 2 requests per second for the route. Demand: 4 per second.
    const gateway = cleanup.add(
      await startGateway({
        providers: { p: { type: 'openai', base_url: `${sim.url}/v1`, api_keys: ['sk-queue-key-0001', 'sk-queue-key-0002'], limits: { rpm: 60 } } },
        models: { chat: { retry: { attempts: 1 }, targets: [{ provider: 'p', model: 'm' }], queue: { max: 1000, timeout_ms: 30_000 } } },
      }),
    );
    const finished: RequestFinishedEvent[] = [];
    gateway.engine.events.on('request.finished', (event) => finished.push(event));
    const clients = { high: openAi(gateway, { 'x-detour-priority': 'high' }), low: openAi(gateway, { 'x-detour-priority': 'low' }) };
    const results = await paced(40, 250, (index) => clients[index % 2 === 0 ? 'high' : 'low'].chat.completions.create(ask));
    expect(results.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
    expect(finished).toHaveLength(40);
    const waits = (priority: string) => finished.filter((event) => event.priority === priority).map((event) => event.queueWaitMs ?? 0);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const high = waits('high');
    const low = waits('low');
    expect(high).toHaveLength(20);
    expect(low).toHaveLength(20);
    // Demand was twice the capacity: about half of them waited.
    expect(finished.filter((event) => (event.queueWaitMs ?? 0) > 0).length).toBeGreaterThanOrEqual(10);
    if (process.env.DETOUR_TEST_FIGURES) console.log('queue waits (ms)', { high: mean(high), low: mean(low), waited: finished.filter((event) => (event.queueWaitMs ?? 0) > 0).length });
    expect(mean(high)).toBeLessThan(mean(low));
    // Paced below the ceiling it enforces, the provider never had to refuse one.
    expect(upstreamCalls([sim], 0).limited).toBe(0);
    expect(sim.stats.requests).toBe(40);
    // /metrics shows the waits, the queue and each target's headroom.
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/detour_queue_wait_seconds_count\{route="chat",priority="high"\} \d+/);
    expect(metrics).toMatch(/detour_queue_depth\{route="chat",priority="low"\} 0/);
    expect(metrics).toMatch(/detour_target_limit_headroom\{target="p\/m#0",limit="requests",source="declared"\} \d+/);
    expect(metrics).toMatch(/detour_target_limit\{target="p\/m#0",limit="requests",source="declared"\} 10/);
    // The dashboard's overview shows the same.
    const overview = (await (await fetch(`${gateway.url}/admin/api/overview`)).json()) as { routes: Array<{ name: string; queue: { recent_waits: number; wait_p95_ms: number } }>; targets: Array<{ id: string; limits: Array<{ kind: string; limit: number }> }> };
    const route = overview.routes.find((entry) => entry.name === 'chat');
    expect(route?.queue.recent_waits).toBeGreaterThanOrEqual(10);
    expect(route?.queue.wait_p95_ms).toBeGreaterThan(0);
    expect(overview.targets.find((target) => target.id === 'p/m#0')?.limits).toContainEqual(expect.objectContaining({ kind: 'requests', source: 'declared', limit: 10 }));
  }, 90_000);
});

describe('refusals in the client’s format', () => {
  async function fullRoute(queue: Record<string, unknown>) {
    const sim = cleanup.add(await startSim());
    // 1 rpm: one request per minute, then the route has no room.
    const gateway = cleanup.add(
      await startGateway({
        providers: { p: { type: 'openai', base_url: `${sim.url}/v1`, api_key: 'sk-full-key-0001', limits: { rpm: 1 } } },
        models: { chat: { retry: { attempts: 1 }, targets: [{ provider: 'p', model: 'm' }], queue } },
      }),
    );
    await openAi(gateway).chat.completions.create(ask);
    return { sim, gateway };
  }

  it('a full queue is a 429 with retry-after in the OpenAI, Anthropic, Gemini and Responses formats, and nothing reaches the upstream', async () => {
    const { sim, gateway } = await fullRoute({ max: 0 });
    const openAiError = await openAi(gateway).chat.completions.create(ask).catch((error: unknown) => error);
    expect(openAiError).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number((openAiError as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((openAiError as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('QUEUE_FULL');

    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
    const anthropicError = await anthropic.messages.create({ model: 'chat', max_tokens: 20, messages: [{ role: 'user', content: 'Hello' }] }).catch((error: unknown) => error);
    expect(anthropicError).toBeInstanceOf(Anthropic.RateLimitError);
    expect((anthropicError as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toMatch(/^\d+$/);

    const responsesError = await openAi(gateway).responses.create({ model: 'chat', input: 'Hello' }).catch((error: unknown) => error);
    expect(responsesError).toBeInstanceOf(OpenAI.RateLimitError);

    const gemini = new GoogleGenAI({ apiKey: 'unused', httpOptions: { baseUrl: gateway.url } });
    const geminiError = await gemini.models.generateContent({ model: 'chat', contents: 'Hello' }).catch((error: unknown) => error);
    expect(String(geminiError)).toMatch(/429/);
    const raw = await fetch(`${gateway.url}/v1beta/models/chat:generateContent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ parts: [{ text: 'Hello' }] }] }) });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await raw.json()) as { error: { status: string } }).error.status).toBe('RESOURCE_EXHAUSTED');
    expect(sim.stats.requests).toBe(1);
  }, 30_000);

  it('a request that waits out queue.timeout_ms is a 429 with retry-after, its wait and priority recorded with it', async () => {
    const { sim, gateway } = await fullRoute({ max: 10, timeout_ms: 300 });
    const finished: RequestFinishedEvent[] = [];
    gateway.engine.events.on('request.finished', (event) => finished.push(event));
    const error = await openAi(gateway, { 'x-detour-priority': 'low' }).chat.completions.create(ask).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('QUEUE_TIMEOUT');
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ status: 429, errorCode: 'QUEUE_TIMEOUT', priority: 'low' });
    expect(finished[0]?.queueWaitMs).toBeGreaterThan(0);
    expect(sim.stats.requests).toBe(1);
  }, 30_000);

  it('an invalid x-detour-priority is a 400 in the client’s format, never sent upstream', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway({ providers: { p: { type: 'openai', base_url: `${sim.url}/v1`, api_key: 'sk-priority-0001' } }, models: { chat: { targets: [{ provider: 'p', model: 'm' }] } } }));
    const openAiError = await openAi(gateway, { 'x-detour-priority': 'urgent' }).chat.completions.create(ask).catch((error: unknown) => error);
    expect(openAiError).toBeInstanceOf(OpenAI.BadRequestError);
    expect((openAiError as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('x-detour-priority');
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-detour-priority': 'top' } });
    const anthropicError = await anthropic.messages.create({ model: 'chat', max_tokens: 20, messages: [{ role: 'user', content: 'Hello' }] }).catch((error: unknown) => error);
    expect(anthropicError).toBeInstanceOf(Anthropic.BadRequestError);
    expect((anthropicError as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(sim.stats.requests).toBe(0);
    // A valid one, any case, goes through.
    await expect(openAi(gateway, { 'x-detour-priority': 'HIGH' }).chat.completions.create(ask)).resolves.toBeDefined();
  }, 30_000);
});

describe('the queue while a route is down', () => {
  it('requests waiting for recovery hold places in the route`s queue: past queue.max the next is a 429 QUEUE_FULL at once, and the waiting ones are served on recovery', async () => {
    const sim = cleanup.add(await startSim());
    await sim.down();
    const timers = new ManualTimers(new ManualClock(Date.now()));
    const gateway = cleanup.add(
      await startGateway(
        {
          breaker: { failure_threshold: 1, minimum_requests: 50 },
          providers: { p: { type: 'openai', base_url: `${sim.url}/v1`, api_key: 'sk-down-key-0001' } },
          models: { chat: { retry: { attempts: 1 }, targets: [{ provider: 'p', model: 'm' }], queue: { max: 2, timeout_ms: 30_000 }, wait_for_recovery_ms: 20_000 } },
        },
        { clock: timers.clock, timers },
      ),
    );
    const finished: RequestFinishedEvent[] = [];
    gateway.engine.events.on('request.finished', (event) => finished.push(event));
    const step = async (ms: number): Promise<void> => {
      for (let moved = 0; moved < ms; moved += 100) {
        timers.advance(100);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    };
    const send = () => fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask) });
    const waiting = [send(), send()];
    await step(500);
    expect(finished).toEqual([]);
    const third = await send();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('QUEUE_FULL');
    await sim.up();
    await step(2_000);
    for (const response of await Promise.all(waiting)) expect(response.status).toBe(200);
  }, 30_000);
});
