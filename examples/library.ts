/**
 * Detour as a library: failover inside your own service, no proxy. The same config, engine and
 * events as `detour start`.
 */
import { createGateway, GatewayError } from 'detour';
import { configPath } from './config-path.js';

const gateway = await createGateway(configPath);
gateway.on('failover.performed', (event) => console.log(`[detour] ${event.from} failed (${event.code}); trying ${event.to}`));

try {
  // OpenAI's shape in, OpenAI's shape out, whichever upstream answers.
  const { response, served } = await gateway.chat({ model: 'chat', messages: [{ role: 'user', content: 'Say hello in five words.' }] });
  console.log(response.choices[0]?.message.content);
  console.log(`served by ${served.target} after ${served.upstreamCalls} upstream call(s); failover: ${served.isFailover}`);

  // A stream is handed over once its first chunk has arrived: until then, failures fail over invisibly.
  const stream = await gateway.chatStream({ model: 'chat', messages: [{ role: 'user', content: 'Count to five.' }] });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
  process.stdout.write(`\n(streamed by ${stream.served.target})\n`);

  // Anthropic's shape, on the same route.
  const { response: message } = await gateway.messages({ model: 'chat', max_tokens: 100, messages: [{ role: 'user', content: 'One word for "detour"?' }] });
  console.log(message.content.map((block) => (block.type === 'text' ? block.text : '')).join(''));

  console.table(gateway.targets().map((target) => ({ target: target.id, circuit: target.circuit, health: target.health, successRate: target.successRate, latencyMs: target.latencyMs })));
} catch (error) {
  // Every target failed, or the request was refused: the status and code the server would have answered.
  if (error instanceof GatewayError) console.error(`${error.status} ${error.code}: ${error.message}`);
  else throw error;
} finally {
  await gateway.close();
}
