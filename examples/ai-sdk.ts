/**
 * The Vercel AI SDK on a Detour route: `detour('chat')` is a language model whose calls get the
 * route's failover, retries and breakers, in process.
 */
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { createGateway } from 'detour';
import { createDetour } from 'detour/ai-sdk';
import { z } from 'zod';
import { configPath } from './config-path.js';

const gateway = await createGateway(configPath);
const detour = createDetour(gateway);

try {
  const { text, providerMetadata } = await generateText({ model: detour('chat'), prompt: 'Say hello in five words.' });
  console.log(text);
  const served = providerMetadata?.detour;
  console.log(`served by ${String(served?.target)} after ${String(served?.upstreamCalls)} upstream call(s); failover: ${String(served?.isFailover)}`);

  const weather = tool({
    description: 'The current weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, celsius: 18 }),
  });
  const result = streamText({ model: detour('chat'), prompt: 'What is the weather in Paris?', tools: { weather }, stopWhen: stepCountIs(2) });
  for await (const delta of result.textStream) process.stdout.write(delta);
  process.stdout.write(`\n(finish: ${await result.finishReason})\n`);
} finally {
  await gateway.close();
}
