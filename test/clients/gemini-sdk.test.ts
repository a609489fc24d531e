import { ApiError, GoogleGenAI, Type } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultAnswerStyle } from '../../src/sim/answer.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** @google/genai pointed at Detour, whose route `chat` is served by an OpenAI-format upstream. */
async function geminiClient() {
  const sim = cleanup.add(await startSim({ capture: 10 }));
  const gateway = cleanup.add(await startGateway({ providers: { openai: openAiProvider(sim) }, models: { chat: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } } }));
  return { sim, url: gateway.url, ai: new GoogleGenAI({ apiKey: 'AIzaSy-detour-client-key', httpOptions: { baseUrl: gateway.url } }) };
}

describe('@google/genai through Detour to an OpenAI-format upstream', () => {
  it('generateContent: text, usage, and the call translated to chat completions', async () => {
    const { sim, ai } = await geminiClient();
    const response = await ai.models.generateContent({ model: 'chat', contents: 'Hello', config: { systemInstruction: 'Be brief.' } });
    expect(response.text).toBe(defaultAnswerStyle.text);
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    const sent = JSON.parse(sim.captured.at(-1)?.body ?? '{}') as { messages: Array<{ role: string }> };
    expect(sim.captured.at(-1)?.path).toBe('/v1/chat/completions');
    expect(sent.messages.map((message) => message.role)).toEqual(['system', 'user']);
  });

  it('generateContentStream: the text in pieces, then the finish and usage', async () => {
    const { ai } = await geminiClient();
    let text = '';
    let pieces = 0;
    let finish: string | undefined;
    let usage: number | undefined;
    for await (const chunk of await ai.models.generateContentStream({ model: 'chat', contents: 'Hello' })) {
      text += chunk.text ?? '';
      pieces++;
      finish = chunk.candidates?.[0]?.finishReason ?? finish;
      usage = chunk.usageMetadata?.totalTokenCount ?? usage;
    }
    expect(text).toBe(defaultAnswerStyle.text);
    expect(pieces).toBeGreaterThan(1);
    expect(finish).toBe('STOP');
    expect(usage).toBeGreaterThan(0);
  });

  it('function calling with a forced tool', async () => {
    const { ai } = await geminiClient();
    const response = await ai.models.generateContent({
      model: 'chat',
      contents: 'Weather in Paris?',
      config: {
        tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] } }] }],
        toolConfig: { functionCallingConfig: { mode: 'ANY' as never } },
      },
    });
    expect(response.functionCalls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
  });

  it('countTokens answers an estimate, marked as one', async () => {
    const { ai, url } = await geminiClient();
    const counted = await ai.models.countTokens({ model: 'chat', contents: 'Hello there, how are you today?' });
    expect(counted.totalTokens).toBeGreaterThan(0);
    const raw = await fetch(`${url}/v1beta/models/chat:countTokens?key=k`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] }),
    });
    expect(raw.headers.get('x-detour-estimated')).toBe('true');
  });

  it('lists the routes as models, and answers an unknown route in Gemini\'s error shape', async () => {
    const { ai } = await geminiClient();
    const names: string[] = [];
    for await (const model of await ai.models.list()) names.push(model.name ?? '');
    expect(names).toEqual(['models/chat']);
    const failure = await ai.models.generateContent({ model: 'nope', contents: 'Hello' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(404);
  });
});
