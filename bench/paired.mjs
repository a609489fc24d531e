#!/usr/bin/env node
// `node bench/paired.mjs --baseline /tmp/before/dist/cli/main.js`: this build and another one,
// both gateways up at once against one simulator, loaded in back-to-back pairs of cells (this then
// other, other then this, and so on: the order swaps every pair) at one connection count. Prints each pair's CPU µs per request, req/s, peak RSS and the
// upstream connections each gateway held, then the median of the pairs' CPU ratios: on a shared
// machine, two cells seconds apart see nearly the same contention, which separate rows of a long
// run do not. Build first (`npm run build`).
//   node bench/paired.mjs --baseline PATH [--connections 32] [--stream] [--rounds 3] [--duration 4]
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { passThroughConfig, writeConfig } from './lib/configs.mjs';
import { runLoad } from './lib/load.mjs';
import { startProcess, startSampling, stopProcess } from './lib/processes.mjs';
import { quantile } from './lib/stats.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { baseline: { type: 'string' }, connections: { type: 'string', default: '32' }, stream: { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '4' } },
});
if (!values.baseline) throw new Error('--baseline PATH (another build’s dist/cli/main.js) is required');
const builds = [
  { name: 'this build', mainJs: join(root, 'dist', 'cli', 'main.js') },
  { name: 'baseline', mainJs: resolve(values.baseline) },
];
const connections = Number(values.connections);
const isStream = values.stream;

/** Established connections from `pid` to the simulator's port (from `ss`; undefined where it is missing). */
function upstreamConnections(pid, port) {
  try {
    const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
    return out.split('\n').filter((line) => line.includes(`pid=${pid},`)).length;
  } catch {
    return undefined;
  }
}

const directory = mkdtempSync(join(tmpdir(), 'detour-paired-'));
const sim = await startProcess({ name: 'sim', mainJs: builds[0].mainJs, directory, args: ['sim', '--port', '0', '--host', '127.0.0.1', '--chunk-delay', '0'], readyPattern: /simulator listening on (http:\/\/\S+)/ });
const simPort = new URL(sim.url).port;
try {
  for (const [index, build] of builds.entries()) {
    const config = writeConfig(directory, `gateway-${index}`, passThroughConfig(sim.url));
    build.gateway = await startProcess({ name: `gateway-${index}`, command: process.execPath, args: [build.mainJs, 'start', '--config', config, '--port', '0', '--host', '127.0.0.1'], directory, readyPattern: /listening on (http:\/\/\S+)/ });
    build.cells = [];
  }
  for (const build of builds) await runLoad({ url: `${build.gateway.url}/v1/chat/completions`, model: 'chat', connections, durationS: 2, isStream });
  for (let round = 0; round < Number(values.rounds); round++) {
    // Each build goes first in every other pair: the first cell of a pair measured up to 10% more CPU per request than the second, whichever build it was.
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      await new Promise((done) => setTimeout(done, 300));
      const sampling = startSampling(build.gateway.pid);
      let peakConnections = 0;
      const watch = setInterval(() => (peakConnections = Math.max(peakConnections, upstreamConnections(build.gateway.pid, simPort) ?? 0)), 500);
      const load = await runLoad({ url: `${build.gateway.url}/v1/chat/completions`, model: 'chat', connections, durationS: Number(values.duration), isStream });
      clearInterval(watch);
      const sample = sampling.stop();
      build.cells.push({ requestsPerSecond: load.requestsPerSecond, cpuUs: (sample.cpuSeconds / load.ok) * 1e6, peakRssMb: sample.peakRssMb, peakConnections });
    }
  }
  console.log(`${isStream ? 'streamed ' : ''}pass-through, ${connections} connections, ${values.rounds} pairs of ${values.duration} s cells`);
  console.log('| pair | this build: CPU µs/req, req/s, peak RSS MB, upstream conns | baseline: the same | CPU ratio |');
  console.log('|---|---|---|---|');
  const ratios = [];
  builds[0].cells.forEach((cell, index) => {
    const other = builds[1].cells[index];
    ratios.push(cell.cpuUs / other.cpuUs);
    const show = (c) => `${Math.round(c.cpuUs)}, ${Math.round(c.requestsPerSecond)}, ${c.peakRssMb.toFixed(0)}, ${c.peakConnections}`;
    console.log(`| ${index + 1}${index % 2 === 0 ? '' : ' (baseline first)'} | ${show(cell)} | ${show(other)} | ${(cell.cpuUs / other.cpuUs).toFixed(2)} |`);
  });
  console.log(`\nCPU µs/req, this build ÷ baseline, median of the pairs: ${quantile(ratios, 0.5).toFixed(2)}`);
} finally {
  for (const build of builds) if (build.gateway) await stopProcess(build.gateway);
  await stopProcess(sim);
}
