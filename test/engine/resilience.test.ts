import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };
/** Opens after two failures; short cooldowns keep the tests quick. */
const fastBreaker = { failure_threshold: 2, window_ms: 10_000, open_ms: 300, max_open_ms: 2000, minimum_requests: 50 };

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition() && Date.now() - started < timeoutMs) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function twoSims() {
  const primary = cleanup.add(await startSim());
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  return { primary, backup };
}

describe('circuit breakers in the engine', () => {
  it('a dead primary costs nothing once its circuit is open, and gets traffic back after it heals', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        // A cooldown long enough for ten requests on a busy machine.
        breaker: { ...fastBreaker, open_ms: 2000 },
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 } } },
      }),
    );
    const client = await openAiClient(gateway.url);
    primary.setPlan({ faults: [{ status: 503 }] });
    for (let i = 0; i < 2; i++) await client.chat.completions.create(ask);
    const openedAt = Date.now();
    expect(primary.stats.requests).toBe(2);
    // Open: the next requests go straight to the backup; the primary sees nothing.
    for (let i = 0; i < 10; i++) {
      const { response } = await client.chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-detour-provider')).toBe('backup');
      expect(response.headers.get('x-detour-attempts')).toBe('1');
    }
    expect(primary.stats.requests).toBe(2);
    expect(gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit).toBe('open');

    primary.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, openedAt + 2050 - Date.now())));
    // Cooldown over: exactly one probe goes to the primary; its success closes the circuit.
    const { response } = await client.chat.completions.create(ask).withResponse();
    expect(response.headers.get('x-detour-provider')).toBe('primary');
    expect(primary.stats.requests).toBe(3);
    await waitFor(() => gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit === 'closed');
    for (let i = 0; i < 3; i++) await client.chat.completions.create(ask);
    expect(primary.stats.requests).toBe(6);
  });

  it('takes breaker settings from the provider and the route, over the top-level ones', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        breaker: { failure_threshold: 50, minimum_requests: 1000 },
        providers: { primary: { ...openAiProvider(primary), breaker: { failure_threshold: 3 } }, backup: openAiProvider(backup) },
        models: {
          chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 } },
          strict: { breaker: { failure_threshold: 1, open_ms: 5000 }, targets: [{ provider: 'primary', model: 'strict' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 } },
        },
      }),
    );
    const client = await openAiClient(gateway.url);
    primary.setPlan({ faults: [{ status: 503 }] });
    await client.chat.completions.create({ ...ask, model: 'strict' });
    expect(gateway.engine.targets().find((target) => target.id === 'primary/strict')?.circuit).toBe('open');
    for (let i = 0; i < 2; i++) await client.chat.completions.create(ask);
    expect(gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit).toBe('closed');
    await client.chat.completions.create(ask);
    expect(gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit).toBe('open');
  });

  it('lets exactly one probe through a half-open circuit', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        breaker: fastBreaker,
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 } } },
      }),
    );
    const client = await openAiClient(gateway.url);
    primary.setPlan({ faults: [{ status: 503 }] });
    for (let i = 0; i < 2; i++) await client.chat.completions.create(ask);
    primary.setPlan({ faults: [{ latency_ms: 300 }] });
    await new Promise((resolve) => setTimeout(resolve, 350));
    const before = primary.stats.requests;
    await Promise.all(Array.from({ length: 8 }, () => client.chat.completions.create(ask)));
    expect(primary.stats.requests - before).toBe(1);
  });

  it('keeps upstream calls per request near one during an outage', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 3, backoff_ms: 1, max_backoff_ms: 2 } } },
      }),
    );
    const client = await openAiClient(gateway.url);
    primary.setPlan({ faults: [{ status: 503 }] });
    const requests = 60;
    for (let i = 0; i < requests; i++) await client.chat.completions.create(ask);
    const amplification = (primary.stats.requests + backup.stats.requests) / requests;
    expect(backup.stats.requests).toBe(requests);
    expect(amplification).toBeLessThan(1.3);
  });
});

describe('routing', () => {
  it('a 50% brownout shifts a weighted route towards the healthy target', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        breaker: { failure_threshold: 1000, minimum_requests: 1000 },
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { strategy: 'weighted', targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 } } },
      }),
    );
    primary.setPlan({ faults: [{ status: 503, probability: 0.5 }] });
    const client = await openAiClient(gateway.url);
    for (let i = 0; i < 120; i++) await client.chat.completions.create(ask);
    // Equal weights would send ~60 first attempts to each; penalties halve the primary's share per recent failure.
    const primaryFirst = primary.stats.requests;
    expect(primaryFirst).toBeLessThan(45);
    expect(backup.stats.requests).toBeGreaterThan(85);
  });

  it('a hedged request beats a slow primary, and the slow call is cancelled', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { hedge: { after_ms: 100 }, targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }] } },
      }),
    );
    primary.setPlan({ faults: [{ latency_ms: 2000 }] });
    const client = await openAiClient(gateway.url);
    const started = Date.now();
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
  });

  it('a 429 storm on one key moves traffic to the provider`s other key before another provider', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: { type: 'openai', base_url: `${primary.url}/v1`, api_keys: ['sk-key-one-1111', 'sk-key-two-2222'] }, backup: openAiProvider(backup) },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }] } },
      }),
    );
    primary.setPlan({ faults: [{ api_key: 'sk-key-one-1111', status: 429, retry_after_s: 20 }] });
    const client = await openAiClient(gateway.url);
    for (let i = 0; i < 20; i++) {
      const { response } = await client.chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-detour-provider')).toBe('primary');
    }
    expect(backup.stats.requests).toBe(0);
    expect(primary.stats.countForKey('sk-key-two-2222')).toBe(20);
    // The rate-limited key's circuit opens and stops costing a call per request.
    expect(primary.stats.countForKey('sk-key-one-1111')).toBeLessThanOrEqual(6);
  });

  it('degrade_to answers, marked degraded, when every target of a route fails', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: {
          smart: { degrade_to: 'cheap', targets: [{ provider: 'primary', model: 'big' }], retry: { attempts: 1 } },
          cheap: { targets: [{ provider: 'backup', model: 'small' }] },
        },
      }),
    );
    primary.setPlan({ faults: [{ status: 503 }] });
    const client = await openAiClient(gateway.url);
    const { data, response } = await client.chat.completions.create({ ...ask, model: 'smart' }).withResponse();
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(data.model).toBe('small');
    expect(response.headers.get('x-detour-degraded')).toBe('true');
    expect(response.headers.get('x-detour-attempts')).toBe('2');
  });

  it('waits for the first cooldown to end instead of failing when every circuit is open', async () => {
    const { primary } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        breaker: fastBreaker,
        providers: { primary: openAiProvider(primary) },
        models: { chat: { wait_for_recovery_ms: 1000, targets: [{ provider: 'primary', model: 'm' }], retry: { attempts: 1 } } },
      }),
    );
    const client = await openAiClient(gateway.url);
    primary.setPlan({ faults: [{ status: 503 }] });
    for (let i = 0; i < 2; i++) await client.chat.completions.create(ask).catch(() => undefined);
    primary.clearFaults();
    const started = Date.now();
    const answer = await client.chat.completions.create(ask);
    expect(answer.choices[0]?.message.content).toContain('Detour simulator');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('fails fast with 503 and retry-after when every circuit is open and waiting is off', async () => {
    const { primary } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        breaker: { ...fastBreaker, open_ms: 5000 },
        providers: { primary: openAiProvider(primary) },
        models: { chat: { wait_for_recovery_ms: 0, targets: [{ provider: 'primary', model: 'm' }], retry: { attempts: 1 } } },
      }),
    );
    primary.setPlan({ faults: [{ status: 503 }] });
    for (let i = 0; i < 2; i++) await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask) });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask) });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(4);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NO_TARGET_AVAILABLE');
    expect(primary.stats.requests).toBe(2);
  });

  it('skips targets that cannot see images, and answers 400 when none can', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: {
          chat: { targets: [{ provider: 'primary', model: 'text-only', capabilities: { vision: false } }, { provider: 'backup', model: 'gpt-4o' }] },
          blind: { targets: [{ provider: 'primary', model: 'text-only', vision: false }] },
        },
      }),
    );
    const client = await openAiClient(gateway.url);
    const image = { role: 'user' as const, content: [{ type: 'text' as const, text: 'what is this?' }, { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png' } }] };
    const { response } = await client.chat.completions.create({ model: 'chat', messages: [image] }).withResponse();
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(primary.stats.requests).toBe(0);
    const refused = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'blind', messages: [image] }) });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('lacks vision');
    expect(primary.stats.requests).toBe(0);
  });

  it('health checks open a dead target`s circuit before real traffic reaches it', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        providers: {
          primary: { ...openAiProvider(primary), health_check: { interval_ms: 100, unhealthy_interval_ms: 100, timeout_ms: 200, unhealthy_threshold: 2, healthy_threshold: 1 } },
          backup: openAiProvider(backup),
        },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }] } },
      }),
    );
    await primary.down();
    await waitFor(() => gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit === 'open', 3000);
    expect(gateway.engine.targets().find((target) => target.id === 'primary/m')).toMatchObject({ circuit: 'open', health: 'unhealthy' });
    const client = await openAiClient(gateway.url);
    const { response } = await client.chat.completions.create(ask).withResponse();
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(response.headers.get('x-detour-attempts')).toBe('1');
    await primary.up();
    await waitFor(() => gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit === 'closed', 3000);
    expect(gateway.engine.targets().find((target) => target.id === 'primary/m')).toMatchObject({ circuit: 'closed', health: 'healthy' });
    // Probe spend is visible in the metrics.
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/detour_health_probes_total\{target="primary\/m",mode="models",result="unhealthy"\} [1-9]/);
    expect(metrics).toMatch(/detour_health_probes_total\{target="primary\/m",mode="models",result="healthy"\} [1-9]/);
  });

  it('mirrors a sample of requests to a shadow target without returning its answer', async () => {
    const { primary, backup } = await twoSims();
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { mirror: { provider: 'backup', model: 'shadow', sample_rate: 1 }, targets: [{ provider: 'primary', model: 'm' }] } },
      }),
    );
    const compared: Array<{ similarity?: number | undefined; mirrorTarget: string }> = [];
    gateway.engine.events.on('mirror.compared', (event) => compared.push(event));
    const client = await openAiClient(gateway.url);
    const answer = await client.chat.completions.create(ask);
    expect(answer.choices[0]?.message.content).toContain('Detour simulator');
    await waitFor(() => compared.length === 1);
    expect(backup.stats.countFor('shadow')).toBe(1);
    expect(compared[0]?.mirrorTarget).toBe('backup/shadow');
    expect(compared[0]?.similarity).toBeLessThan(0.5);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('detour_mirrors_total{route="chat",target="backup/shadow"} 1');
    expect(metrics).toContain('detour_mirror_similarity_ratio_count{route="chat",mirror="backup/shadow"} 1');
  });
});
