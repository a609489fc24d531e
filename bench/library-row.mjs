#!/usr/bin/env node
// The in-process row: Detour as a library (`gateway.chat`, `gateway.chatStream`, `gateway.fetch`)
// against direct HTTP to the simulator, from the same process with the same HTTP client (undici).
// The simulator runs in its own process, as in `npm run bench`. Needs `npm run build` first.
// Prints a markdown table; passes or fails nothing.
//
//   node bench/library-row.mjs [--requests 3000] [--seconds 3] [--connections 32]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { killAllNow, startProcess, stopAll } from './lib/processes.mjs';
import { summarize } from './lib/stats.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mainJs = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(join(root, 'dist', 'index.js'))) {
  process.stderr.write('bench/library-row.mjs: run `npm run build` first\n');
  process.exit(2);
}
// The package's own name, resolved through package.json `exports` to this checkout's build.
const { createGateway } = await import('detour');

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
  },
});
const sequentialRequests = Number(values.requests);
const loadSeconds = Number(values.seconds);
const connections = Number(values.connections);
const warmup = 300;

process.on('exit', killAllNow);
const directory = mkdtempSync(join(tmpdir(), 'detour-library-bench-'));
const sim = await startProcess({ name: 'sim', mainJs, directory, args: ['sim', '--port', '0', '--host', '127.0.0.1', '--chunk-delay', '0'], readyPattern: /simulator listening on (http:\/\/\S+)/ });
const chatUrl = `${sim.url}/v1/chat/completions`;
const bodyObject = { model: 'chat', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 64 };
const bodyText = JSON.stringify(bodyObject);
const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };

const gateway = await createGateway(
  { providers: { sim: { type: 'openai', base_url: `${sim.url}/v1`, api_key: 'sk-bench' } }, models: { chat: { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } } },
  { env: {} },
);
const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });

/** Each row is one whole request, its answer read to the end. */
const rows = [
  {
    name: 'direct HTTP (undici → simulator)',
    call: async () => {
      const response = await request(chatUrl, { method: 'POST', headers, body: bodyText, dispatcher: agent });
      await response.body.text();
    },
  },
  { name: 'gateway.chat()', call: () => gateway.chat(bodyObject) },
  {
    name: 'gateway.fetch() (what the SDKs use)',
    call: async () => {
      const response = await gateway.fetch('http://detour.local/v1/chat/completions', { method: 'POST', headers, body: bodyText });
      await response.text();
    },
  },
  {
    name: 'gateway.chatStream(), read to the end',
    call: async () => {
      for await (const _chunk of await gateway.chatStream(bodyObject));
    },
  },
  {
    name: 'direct HTTP stream (undici → simulator)',
    call: async () => {
      const response = await request(chatUrl, { method: 'POST', headers, body: JSON.stringify({ ...bodyObject, stream: true }), dispatcher: agent });
      await response.body.text();
    },
  },
];

async function sequential(call) {
  for (let i = 0; i < warmup; i++) await call();
  const latencies = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < sequentialRequests; i++) {
    const started = performance.now();
    await call();
    latencies.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { ...summarize(latencies), cpuMicrosPerRequest: (cpu.user + cpu.system) / sequentialRequests };
}

async function throughput(call) {
  const deadline = performance.now() + loadSeconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        await call();
        done++;
      }
    }),
  );
  return done / loadSeconds;
}

const results = [];
try {
  for (const row of rows) {
    process.stderr.write(`measuring ${row.name}…\n`);
    const latency = await sequential(row.call);
    const perSecond = await throughput(row.call);
    results.push({ name: row.name, ...latency, perSecond });
  }
} finally {
  await gateway.close();
  await agent.close();
  await stopAll();
  rmSync(directory, { recursive: true, force: true });
}

const direct = results[0];
const directStream = results[4];
const ms = (value) => (value === undefined ? '–' : value.toFixed(3));
const lines = [
  `## In-process row (Node ${process.version}; ${sequentialRequests} sequential requests after ${warmup} warm-up; ${connections} concurrent for ${loadSeconds} s)`,
  '',
  '| row | p50 ms | p99 ms | mean ms | added p50 ms | req/s @ ' + connections + ' | ÷ direct | CPU µs/req in this process |',
  '|---|---|---|---|---|---|---|---|',
];
for (const row of results) {
  const base = row.name.includes('tream') ? directStream : direct;
  const isBase = row === base;
  lines.push(
    `| ${row.name} | ${ms(row.p50)} | ${ms(row.p99)} | ${ms(row.mean)} | ${isBase ? '–' : ms(row.p50 - base.p50)} | ${Math.round(row.perSecond).toLocaleString('en-US')} | ${isBase ? '–' : `${Math.round((row.perSecond / base.perSecond) * 100)}%`} | ${Math.round(row.cpuMicrosPerRequest)} |`,
  );
}
lines.push('', 'Same HTTP client (undici) and the same simulator process for every row: the difference is what Detour adds in process (parse, validate, route, attempt loop, answer).');
process.stdout.write(`${lines.join('\n')}\n`);
