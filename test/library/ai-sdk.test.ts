import { APICallError, generateText, stepCountIs, streamText, tool, type TextStreamPart, type ToolSet } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDetour } from '../../src/ai-sdk/index.js';
import { Cleanup } from '../helpers/gateway.js';
import { mixedFormatConfig, startLibraryGateway, startMixedSim, twoSimGateway, waitFor } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const weather = {
  get_weather: tool({
    description: 'Current weather',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, temp_c: 18 }),
  }),
};

describe('the AI SDK on a Detour route', () => {
  it('generateText fails over from a failing primary and says who served', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 503 }] });
    const detour = createDetour(gateway);
    const result = await generateText({ model: detour('chat'), prompt: 'Hello', maxRetries: 0 });
    expect(result.text).toBe('from backup');
    expect(result.finishReason).toBe('stop');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.providerMetadata?.detour).toMatchObject({ route: 'chat', provider: 'backup', isFailover: true, upstreamCalls: 3 });
    expect(result.response.headers?.['x-detour-failover']).toBe('true');
    expect(result.response.modelId).toBe('gpt-4o-mini');
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(1);
  });

  it('streamText fails over before the first token and streams the backup’s answer', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, { first_token_timeout_ms: 200 });
    primary.setPlan({ faults: [{ stall_after_chunks: 0 }] });
    const result = streamText({ model: createDetour(gateway)('chat'), prompt: 'Hello', maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('from backup');
    expect(await result.finishReason).toBe('stop');
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
    expect((await result.providerMetadata)?.detour).toMatchObject({ provider: 'backup', isFailover: true });
  });

  it('runs a tool round trip, in one call and streamed, across upstream formats', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway(mixedFormatConfig(sim)));
    const detour = createDetour(gateway);
    for (const route of ['gpt', 'claude', 'resilient']) {
      const generated = await generateText({ model: detour(route), prompt: 'Weather in Paris?', tools: weather, stopWhen: stepCountIs(2), maxRetries: 0 });
      expect(generated.steps[0]?.toolCalls.map((call) => [call.toolName, call.input])).toEqual([['get_weather', { city: 'Paris' }]]);
      expect(generated.text).toBe('The tool returned: {"city":"Paris","temp_c":18}');
      const streamed = streamText({ model: detour(route), prompt: 'Weather in Paris?', tools: weather, stopWhen: stepCountIs(2), maxRetries: 0 });
      expect(await streamed.text).toBe('The tool returned: {"city":"Paris","temp_c":18}');
      expect((await streamed.steps)[0]?.finishReason).toBe('tool-calls');
    }
  });

  it('generateText rejects with an APICallError, not retried by the SDK, when every target fails', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { wait_for_recovery_ms: 0 });
    primary.setPlan({ faults: [{ status: 503 }] });
    backup.setPlan({ faults: [{ status: 503 }] });
    const error = await generateText({ model: createDetour(gateway)('chat'), prompt: 'Hello' }).catch((caught: unknown) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 503, isRetryable: false });
    // The SDK's default retries stay off: Detour already made every attempt the route allows.
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(2);
  });

  it('streamText reports a stream broken after it started as an error part and an `error` finish', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, { stream_idle_timeout_ms: 200, on_stream_failure: 'error' });
    primary.setPlan({ faults: [{ stall_after_chunks: 3 }] });
    const errors: unknown[] = [];
    const result = streamText({ model: createDetour(gateway)('chat'), prompt: 'Hello', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const parts: Array<TextStreamPart<ToolSet>['type']> = [];
    for await (const part of result.fullStream) parts.push(part.type);
    expect(parts).toContain('text-delta');
    expect(parts).toContain('error');
    expect(await result.finishReason).toBe('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ statusCode: 502 });
  });

  it('aborting streamText cancels the upstream call', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, {}, 100);
    const controller = new AbortController();
    const result = streamText({ model: createDetour(gateway)('chat'), prompt: 'Hello', maxRetries: 0, abortSignal: controller.signal });
    let seen = 0;
    for await (const _delta of result.textStream) if (++seen === 2) controller.abort();
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
  });

  it('offers language and embedding models, no image models', async () => {
    const { gateway } = await twoSimGateway(cleanup);
    const detour = createDetour(gateway);
    expect(detour.languageModel('chat')).toMatchObject({ specificationVersion: 'v3', provider: 'detour', modelId: 'chat' });
    expect(detour.embeddingModel('embed')).toMatchObject({ specificationVersion: 'v3', provider: 'detour', modelId: 'embed', maxEmbeddingsPerCall: 2048 });
    expect(() => detour.imageModel('chat')).toThrow(/language and embedding models only/);
  });
});
