import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { loadReplay } from '../../src/sim/replay.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiClient, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const fixtures = new URL('../../../shared/fixtures/', import.meta.url).pathname;
const replayOf = (format: string, name: string) => loadReplay({ json: `${fixtures}${format}/${name}.json`, chunks: `${fixtures}${format}/${name}.chunks.txt` });

describe('the simulator replays captured answers', () => {
  it('plays an Anthropic capture to the Anthropic SDK, whole and streamed', async () => {
    const sim = cleanup.add(await startSim({ replay: { '*': replayOf('anthropic', 'text') } }));
    const client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-test', maxRetries: 0 });
    const whole = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    expect(whole.content[0]?.type === 'text' && whole.content[0].text).toMatch(/^Hello! I'm doing well/);
    const streamed = await client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
    expect(streamed.stop_reason).toBe('end_turn');
    expect(streamed.content[0]?.type).toBe('text');
  });

  it('plays OpenAI and Gemini captures to their SDKs', async () => {
    const openAiSim = cleanup.add(await startSim({ replay: { '*': replayOf('openai', 'text') } }));
    const openai = new OpenAI({ baseURL: `${openAiSim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const whole = await openai.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'Hi' }] });
    expect(whole.id).toBe('chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU');
    let text = '';
    for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4.1-nano', stream: true, messages: [{ role: 'user', content: 'Hi' }] })) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(50);

    const geminiSim = cleanup.add(await startSim({ replay: { '*': replayOf('gemini', 'text') } }));
    const gemini = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: geminiSim.url } });
    const answer = await gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'How many r in strawberry?' });
    expect(answer.text).toContain('strawberry');
  });

  it('serves a captured Anthropic answer, translated, to an OpenAI client through Detour', async () => {
    const sim = cleanup.add(await startSim({ replay: { '*': replayOf('anthropic', 'json-tool.1') } }));
    const gateway = cleanup.add(await startGateway({ providers: { claude: anthropicProvider(sim.url) }, models: { chat: { targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] } } }));
    const client = await openAiClient(gateway.url);
    const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'weather?' }] });
    expect(answer.choices[0]?.finish_reason).toBe('tool_calls');
    const call = answer.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual(expect.any(Object));
  });
});
