// Run by package-smoke.sh inside a fresh project that installed the packed package.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createGateway } from 'detour';
import { createDetour } from 'detour/ai-sdk';
import { generateText } from 'ai';

const children = [];
// npx runs the command as its own child: each is a process group, killed whole on the way out.
process.on('exit', () => children.forEach((child) => process.kill(-child.pid, 'SIGKILL')));

/** Runs an installed `detour` command until it prints a line matching `pattern`. */
function startCli(args, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'detour', ...args], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push(child);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) resolve(match[1]);
    });
    child.unref();
    child.on('exit', (code) => reject(new Error(`detour ${args[0]} exited with ${code}: ${out}`)));
  });
}

function check(condition, message) {
  if (!condition) {
    console.error(`package smoke: ${message}`);
    process.exit(1);
  }
}

const simUrl = await startCli(['sim', '--port', '0'], /simulator listening on (http:\/\/\S+)/);
writeFileSync(
  'detour.yaml',
  `providers:\n  primary: { type: openai, base_url: "${simUrl}/v1", api_key: sk-test }\nmodels:\n  chat:\n    targets: [{ provider: primary, model: gpt-4o-mini }]\nlog: { path: ./requests.sqlite }\n`,
);
const gatewayUrl = await startCli(['start', '--config', 'detour.yaml', '--port', '0'], /listening on (http:\/\/\S+)/);
const response = await fetch(`${gatewayUrl}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] }),
});
const body = await response.json();
check(response.status === 200, `detour start answered ${response.status}: ${JSON.stringify(body)}`);
check(response.headers.get('x-detour-provider') === 'primary', 'x-detour-provider is not primary');
check(typeof body.choices?.[0]?.message?.content === 'string', 'the answer has no message content');

const gateway = await createGateway({
  providers: { primary: { type: 'openai', base_url: `${simUrl}/v1`, api_key: 'sk-test' } },
  models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
});
const { served } = await gateway.chat({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] });
check(served.provider === 'primary', `gateway.chat was served by ${served.provider}`);
const { text } = await generateText({ model: createDetour(gateway)('chat'), prompt: 'Hi' });
check(text.length > 0, 'the AI SDK provider returned no text');
await gateway.close();
console.log('library and CLI from the installed package: ok');
process.exit(0);
