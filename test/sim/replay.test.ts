import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { loadReplay } from '../../src/sim/replay.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { projectFixtures } from '../helpers/fixture-sets.js';
import { Cleanup, openAiClient, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** The project's own answers (test/fixtures/); every captured one is replayed by replay-every-fixture.test.ts. */
const replayOf = (format: string, name: string) => loadReplay({ json: projectFixtures.path(`${format}/${name}.json`), chunks: projectFixtures.path(`${format}/${name}.chunks.txt`) });

describe('the simulator replays recorded answers', () => {
  it('plays an Anthropic answer to the Anthropic SDK, whole and streamed', async () => {
    const sim = cleanup.add(await startSim({ replay: { '*': replayOf('anthropic', 'text') } }));
    const client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-test', maxRetries: 0 });
    const whole = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    expect(whole.id).toBe('msg_01HqT4pYw8NsVdE2kRb6LmZa');
    expect(whole.content).toEqual([{ type: 'text', text: 'Good morning! All three checks passed overnight, so the release can go out as planned. Shall I draft the announcement?' }]);
    expect(whole.usage).toMatchObject({ input_tokens: 31, cache_creation_input_tokens: 1820, cache_read_input_tokens: 0, output_tokens: 27 });
    const streamed = await client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
    expect(streamed.id).toBe('msg_01Jc5rWvX9oKp3TgFh7NbQe2');
    expect(streamed.stop_reason).toBe('end_turn');
    expect(streamed.content).toEqual([{ type: 'text', text: 'Good morning! All three checks passed overnight, so the release can go out as planned.' }]);
    expect(streamed.usage).toMatchObject({ input_tokens: 31, cache_read_input_tokens: 1820, output_tokens: 19 });
  });

  it('plays OpenAI and Gemini answers to their SDKs', async () => {
    const openAiSim = cleanup.add(await startSim({ replay: { '*': replayOf('openai', 'text') } }));
    const openai = new OpenAI({ baseURL: `${openAiSim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const whole = await openai.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'Hi' }] });
    expect(whole.id).toBe('chatcmpl-DtrWhole5bK8qLz3NvX7cR2mPa9');
    expect(whole.choices[0]?.message.content).toBe('A gateway keeps one endpoint in front of several providers. When one of them fails, the request moves to the next target in its chain, and the client never has to notice.');
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4.1-nano', stream: true, messages: [{ role: 'user', content: 'Hi' }] })) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Lanterns along the harbour wall glow at dusk.');
    expect(usage).toMatchObject({ prompt_tokens: 13, completion_tokens: 9, total_tokens: 22 });

    const geminiSim = cleanup.add(await startSim({ replay: { '*': replayOf('gemini', 'text') } }));
    const gemini = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: geminiSim.url } });
    const answer = await gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Why does the server not start?' });
    expect(answer.responseId).toBe('kQ9xZ3mTPa6v0NcPlYfB8Ag');
    expect(answer.text).toBe('Port 8080 is already taken by another process. Stop that process, or start the server on a free port with --port 8081.');
    expect(answer.usageMetadata).toMatchObject({ promptTokenCount: 14, candidatesTokenCount: 27, thoughtsTokenCount: 96, totalTokenCount: 137 });
  });

  it('serves an Anthropic answer, translated, to an OpenAI client through Detour', async () => {
    const sim = cleanup.add(await startSim({ replay: { '*': replayOf('anthropic', 'json-tool') } }));
    const gateway = cleanup.add(await startGateway({ providers: { claude: anthropicProvider(sim.url) }, models: { chat: { targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] } } }));
    const client = await openAiClient(gateway.url);
    const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'weather?' }] });
    expect(answer.choices[0]?.finish_reason).toBe('tool_calls');
    const call = answer.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && { id: call.id, name: call.function.name }).toEqual({ id: 'toolu_01Bv7sQk2Xn9Rm4Lt6Zp3WcH', name: 'json' });
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      stations: [
        { name: 'Harbour Point', wind_kn: 14, gusts_kn: 22 },
        { name: 'North Pier', wind_kn: 9, gusts_kn: 15 },
        { name: 'Lighthouse Rock', wind_kn: 21, gusts_kn: 33 },
      ],
    });
    expect(answer.usage).toMatchObject({ prompt_tokens: 684, completion_tokens: 96, total_tokens: 780 });
  });
});
