import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError, type AnthropicMessage, type AnthropicMessagesRequest, type AnthropicStreamEvent } from '../../src/index.js';
import { Cleanup } from '../helpers/gateway.js';
import { mixedFormatConfig, startLibraryGateway, startMixedSim } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const hello = (model: string): AnthropicMessagesRequest => ({ model, max_tokens: 200, messages: [{ role: 'user', content: 'Hello' }] });
const weatherTool = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

function text(message: AnthropicMessage): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

async function setup() {
  const sim = await startMixedSim(cleanup);
  const gateway = cleanup.add(await startLibraryGateway(mixedFormatConfig(sim)));
  return { sim, gateway };
}

async function events(stream: AsyncIterable<AnthropicStreamEvent>): Promise<{ types: string[]; text: string }> {
  const types: string[] = [];
  let streamed = '';
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') streamed += event.delta.text;
  }
  return { types, text: streamed };
}

describe('gateway.messages: Anthropic shape in process', () => {
  it('passes through to an Anthropic upstream', async () => {
    const { sim, gateway } = await setup();
    const { response, served } = await gateway.messages(hello('claude'));
    expect(response.type).toBe('message');
    expect(text(response)).toContain('Detour simulator');
    expect(response.stop_reason).toBe('end_turn');
    expect(served).toMatchObject({ provider: 'claude', model: 'claude-sim', upstreamCalls: 1 });
    expect(sim.stats.countFor('claude-sim')).toBe(1);
  });

  it('translates from an OpenAI upstream, tool calls included', async () => {
    const { gateway } = await setup();
    const { response } = await gateway.messages({ ...hello('gpt'), tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(response.stop_reason).toBe('tool_use');
    expect(response.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } }]);
    expect(response.model).toBe('gpt-sim');
  });

  it('fails over from a down OpenAI target to an Anthropic one', async () => {
    const { sim, gateway } = await setup();
    const { response, served } = await gateway.messages(hello('resilient'));
    expect(text(response)).toContain('Detour simulator');
    expect(served).toMatchObject({ provider: 'claude', isFailover: true, upstreamCalls: 3 });
    expect(sim.stats.countFor('gpt-down')).toBe(2);
  });

  it('streams events, from either upstream format, with a failover before the first', async () => {
    const { gateway } = await setup();
    for (const route of ['claude', 'gpt', 'resilient']) {
      const stream = await gateway.messagesStream(hello(route));
      const { types, text: streamed } = await events(stream);
      expect(streamed).toContain('Detour simulator');
      expect(types[0]).toBe('message_start');
      expect(types.at(-1)).toBe('message_stop');
      expect(types).not.toContain('ping');
      expect(stream.served.isFailover).toBe(route === 'resilient');
    }
  });

  it('refuses a bad request in Anthropic’s terms and calls nothing', async () => {
    const { sim, gateway } = await setup();
    const request = { model: 'claude', messages: [{ role: 'user', content: 'Hello' }] } as unknown as AnthropicMessagesRequest;
    const error = await gateway.messages(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    expect((error as GatewayError).body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((error as GatewayError).message).toMatch(/max_tokens/);
    expect(sim.stats.requests).toBe(0);
  });

  it('rejects with the Anthropic error type when every target fails', async () => {
    const sim = await startMixedSim(cleanup);
    const gateway = cleanup.add(await startLibraryGateway({ ...mixedFormatConfig(sim), models: { down: { wait_for_recovery_ms: 0, targets: [{ provider: 'gpt', model: 'gpt-down' }], retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 } } } }));
    const error = (await gateway.messagesStream(hello('down')).catch((caught: unknown) => caught)) as GatewayError;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 503, code: 'ALL_TARGETS_FAILED' });
    expect(error.body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });
});
