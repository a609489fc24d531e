import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvents, RequestFinishedEvent } from '../../src/core/events.js';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

/**
 * A primary that turns slow for everyone (latency-spike, stream-stall): with default timeouts a
 * request waits 10 s for a first token, 30 s for an answer or 30 s for a stalled stream's next
 * event before it moves on. Slow-call detection moves calls on as soon as three at once wait far
 * past the primary's own recent norm, and opens its circuit, so later requests go straight to
 * the backup. The limits here come from calm traffic first: the norm is learnt, not configured.
 */
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const whole = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }], max_tokens: 16 };
const streamed = { ...whole, stream: true as const };

async function setUp() {
  const primary = cleanup.add(await startSim());
  const backup = cleanup.add(await startSim());
  const gateway: RunningGateway = cleanup.add(
    await startGateway({
      providers: { primary: openAiProvider(primary, 'sk-primary-00000000001'), backup: openAiProvider(backup, 'sk-backup-000000000001') },
      // Timeouts far past the test's own: a call moved on here was moved by slow-call detection, never by a timeout.
      models: {
        chat: {
          attempt_timeout_ms: 600_000,
          first_token_timeout_ms: 600_000,
          stream_idle_timeout_ms: 600_000,
          targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }],
        },
      },
    }),
  );
  const opened: Array<EngineEvents['circuit.opened']> = [];
  gateway.engine.events.on('circuit.opened', (event) => opened.push(event));
  const finished: RequestFinishedEvent[] = [];
  gateway.engine.events.on('request.finished', (event) => finished.push(event));
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  return { primary, backup, gateway, client, opened, finished };
}

/** Calm traffic, so that the primary's norms (first token, answer, pauses) have their 20 samples. */
async function calm(client: OpenAI, count = 24): Promise<void> {
  for (let i = 0; i < count; i++) {
    await client.chat.completions.create(whole);
    const stream = await client.chat.completions.create(streamed);
    for await (const _chunk of stream) void _chunk;
  }
}

async function textOf(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('slow-call detection', () => {
  it('moves calls waiting far past the primary`s norm to the backup, which the primary would have answered only after 25 s, and opens its circuit', async () => {
    const { primary, backup, gateway, client, opened, finished } = await setUp();
    await calm(client);
    // The primary now takes 25 s for everything: under every timeout, far over its norm.
    primary.setPlan({ faults: [{ latency_ms: 25_000 }] });
    const answers = await Promise.all([0, 1, 2, 3].map(() => client.chat.completions.create(whole).withResponse()));
    // Every answer came from the backup: the primary's calls were moved on, each a timeout of its kind.
    expect(answers.map((answer) => answer.response.headers.get('x-detour-target'))).toEqual(Array(4).fill('backup/gpt-4o-mini'));
    const moved = finished.slice(-4).flatMap((event) => event.attempts.filter((attempt) => attempt.target === 'primary/gpt-4o-mini').map((attempt) => attempt.code));
    expect(moved).toEqual(Array(4).fill('UPSTREAM_ATTEMPT_TIMEOUT'));
    expect(opened.filter((event) => event.target === 'primary/gpt-4o-mini').map((event) => event.reason)).toEqual(['slow_calls']);
    // The next request does not wait on the primary at all.
    const callsBefore = primary.stats.recent().length;
    const next = await client.chat.completions.create(whole).withResponse();
    expect(next.response.headers.get('x-detour-target')).toBe('backup/gpt-4o-mini');
    expect(primary.stats.recent().length).toBe(callsBefore);
    expect(backup.stats.recent().length).toBeGreaterThanOrEqual(5);
    // Visible: the moved calls on /metrics, by what they waited for.
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/detour_slow_calls_total\{target="primary\/gpt-4o-mini",wait="answer"\} [3-4]\b/);
  }, 60_000);

  it('a provider`s keys share the verdict: its other key`s slow calls move too, however few, and none moves onto a sibling key', async () => {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim());
    const gateway: RunningGateway = cleanup.add(
      await startGateway({
        providers: { primary: { type: 'openai', base_url: `${primary.url}/v1`, api_keys: ['sk-primary-key-000001', 'sk-primary-key-000002'] }, backup: openAiProvider(backup, 'sk-backup-000000000001') },
        models: { chat: { attempt_timeout_ms: 600_000, targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }] } },
      }),
    );
    const finished: RequestFinishedEvent[] = [];
    gateway.engine.events.on('request.finished', (event) => finished.push(event));
    const opened: Array<EngineEvents['circuit.opened']> = [];
    gateway.engine.events.on('circuit.opened', (event) => opened.push(event));
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    // Each key learns its own norm: 44 calm answers spread over the two.
    for (let i = 0; i < 44; i++) await client.chat.completions.create(whole);
    primary.setPlan({ faults: [{ latency_ms: 25_000 }] });
    // Five calls spread over two keys: three on one (enough for its verdict), two on the other (not enough alone).
    const answers = await Promise.all([0, 1, 2, 3, 4].map(() => client.chat.completions.create(whole).withResponse()));
    expect(answers.map((answer) => answer.response.headers.get('x-detour-target'))).toEqual(Array(5).fill('backup/gpt-4o-mini'));
    // Every request tried one primary key, then the backup: none was moved onto the other slow key.
    const tried = finished.slice(-5).map((event) => event.attempts.map((attempt) => attempt.provider));
    expect(tried).toEqual(Array(5).fill(['primary', 'backup']));
    expect(new Set(opened.map((event) => `${event.target.replace(/#\d+$/, '')} ${event.reason}`))).toEqual(new Set(['primary/gpt-4o-mini slow_calls']));
    expect(opened).toHaveLength(2);
  }, 60_000);

  it('one slow call alone is a long answer, not a slow target: it is left to finish', async () => {
    const { primary, client, opened } = await setUp();
    await calm(client);
    primary.setPlan({ faults: [{ latency_ms: 5_000 }] });
    const answer = await client.chat.completions.create(whole).withResponse();
    expect(answer.response.headers.get('x-detour-target')).toBe('primary/gpt-4o-mini');
    expect(opened).toEqual([]);
  }, 60_000);

  it('continues streams that stall together on the backup, though no idle timeout would end them, the client text whole', async () => {
    const { primary, gateway, client, opened } = await setUp();
    const continued: Array<EngineEvents['stream.continued']> = [];
    gateway.engine.events.on('stream.continued', (event) => continued.push(event));
    await calm(client);
    const answer = await textOf(await client.chat.completions.create(streamed));
    primary.setPlan({ faults: [{ stall_after_chunks: 3 }] });
    const texts = await Promise.all([0, 1, 2].map(async () => textOf(await client.chat.completions.create(streamed))));
    expect(texts).toEqual([answer, answer, answer]);
    expect(continued.map((event) => `${event.from} → ${event.to} ${event.code}`)).toEqual(Array(3).fill('primary/gpt-4o-mini → backup/gpt-4o-mini UPSTREAM_STREAM_IDLE_TIMEOUT'));
    expect(opened.filter((event) => event.target === 'primary/gpt-4o-mini').map((event) => event.reason)).toEqual(['slow_calls']);
  }, 60_000);
});
