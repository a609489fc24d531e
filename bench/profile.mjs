#!/usr/bin/env node
// `node bench/profile.mjs`: runs the pass-through row under load with the gateway started under
// `--cpu-prof`, and prints where its CPU went: the top functions by self time, and the share of
// samples by file (Detour's own files, node internals, dependencies). Build first (`npm run build`).
//   node bench/profile.mjs [--connections 32] [--duration 10] [--stream] [--dead-primary] [--keep DIR] [--main path/to/dist/cli/main.js]
// (`--dead-primary` loads the dead-primary row's config instead: a primary nothing listens on, a healthy backup.)
// (`--main` profiles another build, e.g. an older checkout's, against the same load.)
// (`--body-kb N` sends a coding agent's conversation of about N KB instead of one short question.)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { deadPrimaryConfig, passThroughConfig, writeConfig } from './lib/configs.mjs';
import { runLoad, setBodyKb } from './lib/load.mjs';
import { closedPort, startProcess, stopAll, stopProcess } from './lib/processes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { connections: { type: 'string', default: '32' }, duration: { type: 'string', default: '10' }, stream: { type: 'boolean', default: false }, 'dead-primary': { type: 'boolean', default: false }, keep: { type: 'string' }, top: { type: 'string', default: '25' }, main: { type: 'string' }, 'body-kb': { type: 'string', default: '0' } },
});
const mainJs = values.main ? resolve(values.main) : join(root, 'dist', 'cli', 'main.js');
setBodyKb(Number(values['body-kb']));

/** Self time by function, and by file, from a V8 `.cpuprofile`. */
export function summarizeProfile(profile, top) {
  const total = profile.samples.length;
  const byFunction = new Map();
  const byFile = new Map();
  const counts = new Map();
  for (const sample of profile.samples) counts.set(sample, (counts.get(sample) ?? 0) + 1);
  for (const node of profile.nodes) {
    const hits = counts.get(node.id) ?? 0;
    if (hits === 0) continue;
    const frame = node.callFrame;
    const file = frame.url ? shortFile(frame.url) : `(${frame.functionName || 'native'})`;
    const name = `${frame.functionName || '(anonymous)'} ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    byFile.set(file, (byFile.get(file) ?? 0) + hits);
  }
  const rank = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, hits]) => ({ name, share: hits / total }));
  return { samples: total, functions: rank(byFunction), files: rank(byFile) };
}

function threadOf(fileName) {
  return Number(fileName.split('.')[4]);
}

/** The share of a profile's samples that were not idle, and the seconds it covers. */
export function busyTime(profile) {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  const busy = profile.samples.filter((sample) => !idle.has(sample)).length;
  return { share: profile.samples.length === 0 ? 0 : busy / profile.samples.length, seconds: (profile.endTime - profile.startTime) / 1e6 };
}

function shortFile(url) {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith('node:')) return path;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules !== -1) return path.slice(inModules + 'node_modules/'.length);
  return path.startsWith(root) ? relative(root, path) : path;
}

async function main() {
  const directory = values.keep ?? mkdtempSync(join(tmpdir(), 'detour-profile-'));
  mkdirSync(directory, { recursive: true });
  const sim = await startProcess({ name: 'sim', mainJs, directory, args: ['sim', '--port', '0', '--host', '127.0.0.1', '--chunk-delay', '0'], readyPattern: /simulator listening on (http:\/\/\S+)/ });
  const configPath = writeConfig(directory, 'profile', values['dead-primary'] ? deadPrimaryConfig(sim.url, await closedPort()) : passThroughConfig(sim.url));
  const profileDirectory = join(directory, 'profile');
  const gateway = await startProcess({
    name: 'gateway',
    command: process.execPath,
    args: ['--cpu-prof', '--cpu-prof-dir', profileDirectory, mainJs, 'start', '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--log-level', 'info'],
    directory,
    readyPattern: /listening on (http:\/\/\S+)/,
  });
  const url = `${gateway.url}/v1/chat/completions`;
  const connections = Number(values.connections);
  const warmUp = await runLoad({ url, model: 'chat', connections, durationS: 2, isStream: values.stream });
  const load = await runLoad({ url, model: 'chat', connections, durationS: Number(values.duration), isStream: values.stream });
  // SIGTERM lets the gateway shut down cleanly, which is when V8 writes the profile.
  await stopProcess(gateway, 10_000);
  await stopProcess(sim);
  // One file per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): thread 0 is the
  // event loop; the others are workers (the request log's), whose CPU the bench's µs/req counts too.
  const files = readdirSync(profileDirectory).filter((name) => name.endsWith('.cpuprofile')).sort((a, b) => threadOf(a) - threadOf(b));
  const file = files[0];
  if (!file) throw new Error(`no profile written in ${profileDirectory}`);
  const summary = summarizeProfile(JSON.parse(readFileSync(join(profileDirectory, file), 'utf8')), Number(values.top));
  // The workers' profiles cover the warm-up too: its requests count.
  const answered = warmUp.ok + load.ok;
  const workerLines = files.slice(1).map((name) => {
    const busy = busyTime(JSON.parse(readFileSync(join(profileDirectory, name), 'utf8')));
    return `worker thread ${threadOf(name)}: busy ${(busy.share * 100).toFixed(1)}% of its ${busy.seconds.toFixed(1)} s, about ${Math.round((busy.share * busy.seconds * 1e6) / answered)} µs per request`;
  });
  const lines = [
    `${values['dead-primary'] ? 'dead-primary' : 'pass-through'}${values.stream ? ' (stream)' : ''}, ${connections} connections, ${values.duration} s: ${Math.round(load.requestsPerSecond)} req/s, ${summary.samples} samples`,
    '',
    '| self % | function |',
    '|---|---|',
    ...summary.functions.map((entry) => `| ${(entry.share * 100).toFixed(1)} | \`${entry.name}\` |`),
    '',
    '| self % | file |',
    '|---|---|',
    ...summary.files.map((entry) => `| ${(entry.share * 100).toFixed(1)} | \`${entry.name}\` |`),
    ...(workerLines.length > 0 ? ['', ...workerLines] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.keep) process.stderr.write(`profile kept in ${join(profileDirectory, file)}\n`);
  else rmSync(directory, { recursive: true, force: true });
}

main()
  .catch((error) => {
    process.stderr.write(`profile: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());

