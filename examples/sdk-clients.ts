/**
 * The official SDKs on Detour in process: `gateway.fetch` answers as the HTTP server would,
 * so the clients need nothing but a base URL (any host; no connection is made to it).
 */
import Anthropic from '@anthropic-ai/sdk';
import { createGateway } from 'detour';
import OpenAI from 'openai';
import { configPath } from './config-path.js';

const gateway = await createGateway(configPath);
// Detour retries and fails over; the clients' own retries would only repeat what it already did.
const openai = new OpenAI({ apiKey: 'unused', baseURL: 'http://detour.local/v1', fetch: gateway.fetch, maxRetries: 0 });
const anthropic = new Anthropic({ apiKey: 'unused', baseURL: 'http://detour.local', fetch: gateway.fetch, maxRetries: 0 });

try {
  const { data, response } = await openai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse();
  console.log(data.choices[0]?.message.content);
  console.log(`x-detour-target: ${response.headers.get('x-detour-target')}, x-detour-failover: ${response.headers.get('x-detour-failover')}`);

  const stream = await openai.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Count to five.' }] });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
  process.stdout.write('\n');

  const message = await anthropic.messages.stream({ model: 'chat', max_tokens: 200, messages: [{ role: 'user', content: 'Hello, Claude-or-whoever!' }] }).finalMessage();
  console.log(message.content.map((block) => (block.type === 'text' ? block.text : '')).join(''));
} finally {
  await gateway.close();
}
