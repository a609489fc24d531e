import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { startLibraryGateway } from '../library/library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'eu-only', messages: [{ role: 'user' as const, content: 'Hello' }] };

/** Four simulators in three regions: two in the EU (eu-west, eu-central), one in us-east, one without a declared region. */
async function fleet(): Promise<Record<'euWest' | 'euCentral' | 'usEast' | 'unplaced', Simulator>> {
  const [euWest, euCentral, usEast, unplaced] = await Promise.all([
    startSim({ answer: { text: 'from eu-west' } }),
    startSim({ answer: { text: 'from eu-central' } }),
    startSim({ answer: { text: 'from us-east' } }),
    startSim({ answer: { text: 'from nowhere in particular' } }),
  ]);
  for (const sim of [euWest, euCentral, usEast, unplaced]) cleanup.add(sim as Simulator);
  return { euWest: euWest as Simulator, euCentral: euCentral as Simulator, usEast: usEast as Simulator, unplaced: unplaced as Simulator };
}

/**
 * `eu-only` lists targets in every region but is restricted to the EU's; it hedges, retries and
 * waits for recovery, so that every path that could leave the EU is exercised. `global` uses the
 * same providers without a restriction, with `nearest` from this instance's region.
 */
function regionConfig(sims: Record<'euWest' | 'euCentral' | 'usEast' | 'unplaced', Simulator>, home = 'eu-west'): Record<string, unknown> {
  const healthCheck = { interval_ms: 200, unhealthy_interval_ms: 100, timeout_ms: 1000 };
  return {
    server: { region: home },
    providers: {
      'eu-west-openai': { ...openAiProvider(sims.euWest), region: 'eu-west', health_check: healthCheck },
      'eu-central-claude': { ...anthropicProvider(sims.euCentral.url), region: 'eu-central', health_check: healthCheck },
      'us-openai': { ...openAiProvider(sims.usEast), region: 'us-east' },
      unplaced: openAiProvider(sims.unplaced),
    },
    models: {
      'eu-only': {
        regions: ['eu-west', 'eu-central'],
        strategy: 'nearest',
        targets: [
          { provider: 'us-openai', model: 'gpt-4o-mini' },
          { provider: 'eu-west-openai', model: 'gpt-4o-mini' },
          { provider: 'unplaced', model: 'gpt-4o-mini' },
          { provider: 'eu-central-claude', model: 'claude-sim', max_tokens: 256 },
        ],
        retry: { attempts: 2, backoff_ms: 5, max_backoff_ms: 20 },
        hedge: { after_ms: 50 },
        wait_for_recovery_ms: 400,
        timeout_ms: 10_000,
      },
      global: {
        strategy: 'nearest',
        targets: [
          { provider: 'us-openai', model: 'gpt-4o-mini' },
          { provider: 'eu-west-openai', model: 'gpt-4o-mini' },
          { provider: 'unplaced', model: 'gpt-4o-mini' },
        ],
        retry: { attempts: 1, backoff_ms: 5, max_backoff_ms: 20 },
      },
    },
  };
}

describe('a regions:-restricted route (data residency)', () => {
  it('never calls outside its regions, even when every target inside is down: a 503 in the client`s own format', async () => {
    const sims = await fleet();
    const gateway = cleanup.add(await startGateway(regionConfig(sims)));
    await Promise.all([sims.euWest.down(), sims.euCentral.down()]);

    const openai = await openAiClient(gateway.url);
    const error = await openai.chat.completions.create(ask).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    const streamError = await openai.chat.completions.create({ ...ask, stream: true }).catch((caught: unknown) => caught);
    expect((streamError as InstanceType<typeof OpenAI.APIError>).status).toBe(503);

    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
    const anthropicError = await anthropic.messages.create({ model: 'eu-only', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] }).catch((caught: unknown) => caught);
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    expect((anthropicError as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect((anthropicError as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: expect.any(String) as string } });

    // The answers list every attempt: only EU targets were tried.
    const raw = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask) });
    expect(raw.status).toBe(503);
    const body = (await raw.json()) as { error: { message: string } };
    expect(body.error.message).not.toMatch(/us-openai|unplaced/);
    // Health checks of the EU providers went on meanwhile (the recovery probes too); the others were never called for this route, by any path.
    for (const outside of [sims.usEast, sims.unplaced]) {
      expect(outside.stats.requests).toBe(0);
      expect(outside.stats.snapshot()).toMatchObject({ requests: 0, probes: 0 });
    }
    expect(gateway.engine.routes.resolve('eu-only')?.groups.flatMap((group) => group.targets.map((target) => target.id))).toEqual(['eu-west-openai/gpt-4o-mini', 'eu-central-claude/claude-sim']);
  });

  it('serves inside its regions, fails over between them, and says which region answered', async () => {
    const sims = await fleet();
    const gateway = cleanup.add(await startGateway(regionConfig(sims)));
    const openai = await openAiClient(gateway.url);
    const home = await openai.chat.completions.create(ask).withResponse();
    expect(home.data.choices[0]?.message.content).toBe('from eu-west');
    expect(home.response.headers.get('x-detour-region')).toBe('eu-west');

    await sims.euWest.down();
    const away = await openai.chat.completions.create(ask).withResponse();
    expect(away.data.choices[0]?.message.content).toBe('from eu-central');
    expect(away.response.headers.get('x-detour-region')).toBe('eu-central');
    expect(away.response.headers.get('x-detour-failover')).toBe('true');

    // A stream says it too, in its headers.
    const stream = await openai.chat.completions.create({ ...ask, stream: true }).withResponse();
    expect(stream.response.headers.get('x-detour-region')).toBe('eu-central');
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('from eu-central');
    expect(sims.usEast.stats.requests + sims.unplaced.stats.requests).toBe(0);
  });
});

describe('nearest across regions', () => {
  it('serves from the instance`s region, fails over to the next region when it goes down, and returns when it is back', async () => {
    const sims = await fleet();
    const gateway = cleanup.add(await startGateway(regionConfig(sims, 'us-east')));
    const openai = await openAiClient(gateway.url);
    const global = { ...ask, model: 'global' };
    const first = await openai.chat.completions.create(global).withResponse();
    expect(first.response.headers.get('x-detour-region')).toBe('us-east');

    await sims.usEast.down();
    const away = await openai.chat.completions.create(global).withResponse();
    expect(away.response.headers.get('x-detour-region')).toBe('eu-west');

    await sims.usEast.up();
    // Back home once the region answers again (its circuit, if it opened, is probed on the way).
    let region: string | null = null;
    for (let attempt = 0; attempt < 200 && region !== 'us-east'; attempt++) {
      region = (await openai.chat.completions.create(global).withResponse()).response.headers.get('x-detour-region');
      if (region !== 'us-east') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(region).toBe('us-east');
  });

  it('the library`s served data carries the region', async () => {
    const sims = await fleet();
    const gateway = cleanup.add(await startLibraryGateway(regionConfig(sims)));
    const { served } = await gateway.chat(ask);
    expect(served).toMatchObject({ target: 'eu-west-openai/gpt-4o-mini', region: 'eu-west' });
  });
});

describe('regions in /metrics and the admin API', () => {
  it('labels per-target series with their region, and leaves targets without one as they were', async () => {
    const sims = await fleet();
    const gateway = cleanup.add(await startGateway(regionConfig(sims)));
    const openai = await openAiClient(gateway.url);
    await openai.chat.completions.create(ask);
    let text = '';
    for (let attempt = 0; attempt < 50 && !text.includes('detour_upstream_attempts_total{route="eu-only"'); attempt++) {
      text = await (await fetch(`${gateway.url}/metrics`)).text();
      if (!text.includes('detour_upstream_attempts_total{route="eu-only"')) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(text).toMatch(/detour_upstream_attempts_total\{route="eu-only",target="eu-west-openai\/gpt-4o-mini",provider="eu-west-openai",model="gpt-4o-mini",outcome="success",code="none",region="eu-west"\} 1/);
    expect(text).toContain('detour_circuit_state{target="eu-central-claude/claude-sim",state="closed",region="eu-central"} 1');
    expect(text).toContain('detour_target_health{target="us-openai/gpt-4o-mini",state="unknown",region="us-east"}');
    // A target of no declared region has no region label at all.
    expect(text).not.toMatch(/target="unplaced[^}]*region=/);

    const targets = (await (await fetch(`${gateway.url}/admin/api/targets`)).json()) as { targets: Array<{ id: string; region: string | null }> };
    expect(Object.fromEntries(targets.targets.map((target) => [target.id, target.region]))).toMatchObject({ 'eu-west-openai/gpt-4o-mini': 'eu-west', 'us-openai/gpt-4o-mini': 'us-east' });
  });
});

describe('a whole region down', () => {
  it('fails over to the next region, shows one regional incident, and /status and the dashboard`s data group by region', async () => {
    const [usA, usB, eu] = await Promise.all([startSim(), startSim(), startSim({ answer: { text: 'from eu-west' } })]);
    for (const sim of [usA, usB, eu]) cleanup.add(sim as Simulator);
    const healthCheck = { interval_ms: 200, unhealthy_interval_ms: 100, timeout_ms: 1000, unhealthy_threshold: 1 };
    const gateway = cleanup.add(
      await startGateway({
        server: { region: 'us-east' },
        breaker: { failure_threshold: 2, open_ms: 60_000 },
        providers: {
          'us-a': { ...openAiProvider(usA as Simulator), region: 'us-east', health_check: healthCheck },
          'us-b': { ...openAiProvider(usB as Simulator), region: 'us-east', health_check: healthCheck },
          eu: { ...openAiProvider(eu as Simulator), region: 'eu-west' },
        },
        models: {
          chat: {
            strategy: 'nearest',
            targets: [
              { provider: 'eu', model: 'gpt-4o-mini' },
              { provider: 'us-a', model: 'gpt-4o-mini' },
              { provider: 'us-b', model: 'gpt-4o-mini' },
            ],
            retry: { attempts: 1, backoff_ms: 5, max_backoff_ms: 20 },
          },
        },
      }),
    );
    const openai = await openAiClient(gateway.url);
    const chat = { ...ask, model: 'chat' };
    expect((await openai.chat.completions.create(chat).withResponse()).response.headers.get('x-detour-region')).toBe('us-east');

    await Promise.all([(usA as Simulator).down(), (usB as Simulator).down()]);
    type Overview = { regions: Array<{ name: string; status: string; targets: string[]; providers: string[] }>; incidents: Array<{ key: string; type: string; region: string | null; serving_targets: Record<string, string> }> };
    let overview: Overview | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      const answer = await openai.chat.completions.create(chat).withResponse();
      expect(answer.response.headers.get('x-detour-region')).toBe('eu-west');
      overview = (await (await fetch(`${gateway.url}/admin/api/overview`)).json()) as Overview;
      if (overview.incidents.some((incident) => incident.type === 'region_down') && overview.regions.find((region) => region.name === 'us-east')?.status === 'down') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // One regional incident, not one per target; who serves instead is on it.
    expect(overview?.incidents.map((incident) => incident.key)).toEqual(['region_down:us-east']);
    expect(overview?.incidents[0]).toMatchObject({ type: 'region_down', region: 'us-east', serving_targets: { chat: 'eu/gpt-4o-mini' } });
    expect(overview?.regions).toHaveLength(2);
    expect(overview?.regions).toEqual(
      expect.arrayContaining([
        { name: 'us-east', status: 'down', targets: ['us-a/gpt-4o-mini', 'us-b/gpt-4o-mini'], providers: ['us-a', 'us-b'] },
        { name: 'eu-west', status: 'healthy', targets: ['eu/gpt-4o-mini'], providers: ['eu'] },
      ]),
    );

    const status = (await (await fetch(`${gateway.url}/status.json`)).json()) as { regions: Array<{ name: string; status: string; providers: string[]; history: unknown[] }> };
    expect(status.regions.map(({ name, status: state, providers }) => ({ name, status: state, providers }))).toEqual(
      expect.arrayContaining([
        { name: 'us-east', status: 'down', providers: ['us-a', 'us-b'] },
        { name: 'eu-west', status: 'healthy', providers: ['eu'] },
      ]),
    );
    expect(status.regions[0]?.history).toHaveLength(90);

    // Back home once the region answers: a passing health check lets the next request probe its open circuit, despite the 60 s cooldown.
    await Promise.all([(usA as Simulator).up(), (usB as Simulator).up()]);
    let region: string | null = null;
    for (let attempt = 0; attempt < 200 && region !== 'us-east'; attempt++) {
      region = (await openai.chat.completions.create(chat).withResponse()).response.headers.get('x-detour-region');
      if (region !== 'us-east') await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(region).toBe('us-east');
  });
});
