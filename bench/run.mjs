#!/usr/bin/env node
// `npm run bench`: the simulator and each gateway in its own process on loopback, load from this
// process; prints a markdown report and writes bench/results/<date>.json and .md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfig, crossFormatConfig, deadPrimaryConfig, failoverConfig, models, passThroughConfig, passThroughRedisConfig, responsesPassThroughConfig, writeConfig } from './lib/configs.mjs';
import { measureFailover } from './lib/failover.mjs';
import { chatBody, setBodyKb } from './lib/load.mjs';
import { parseOptions, usage } from './lib/options.mjs';
import { closedPort, killAllNow, startProcess, stopAll, stopProcess } from './lib/processes.mjs';
import { createProgress } from './lib/progress.mjs';
import { findNginx, startNginx } from './lib/nginx.mjs';
import { startRedisServer } from './lib/redis.mjs';
import { computeHeadline, toMarkdown, writeResults } from './lib/report.mjs';
import { probeStreams } from './lib/stream-probe.mjs';
import { difference } from './lib/stats.mjs';
import { measureRows } from './lib/throughput.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mainJs = join(root, 'dist', 'cli', 'main.js');

function machineInfo() {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    totalMemoryGb: Math.round(totalmem() / 2 ** 30),
    platform: process.platform,
    release: release(),
    node: process.version,
    loadAverageStart: loadavg(),
  };
}

function detourCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** One request; `ok` when it answered 2xx. Used to see whether a row can run at all. */
async function tryOnce(url, model, headers = {}) {
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody(model), signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    return { ok: response.ok, problem: `HTTP ${response.status}: ${text.slice(0, 200)}` };
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? `${error.message}${error.cause ? ` (${error.cause.code ?? error.cause.message})` : ''}` : String(error) };
  }
}

function withRedisRow(options) {
  return options.state === 'redis' && options.rows.includes('pass-through');
}

/** What Redis state costs the pass-through row, per connection count (same run, interleaved cells). */
function redisCostNote(rows) {
  const memory = rows.find((row) => row.name === 'pass-through');
  const redis = rows.find((row) => row.name === 'pass-through-redis');
  if (!memory || !redis) return undefined;
  const costs = memory.cells.map((cell) => {
    const other = redis.cells.find((candidate) => candidate.connections === cell.connections);
    const cost = other && cell.requestsPerSecond > 0 ? 1 - other.requestsPerSecond / cell.requestsPerSecond : undefined;
    return `${cell.connections} conn. ${cost === undefined ? '–' : `${(cost * 100).toFixed(1)}%`}`;
  });
  return `Redis state (pass-through-redis) vs memory state (pass-through), throughput lost (goal < 10%): ${costs.join(', ')}.`;
}

/** The limit rows that also run in the streamed and Responses families: `bare` and `floor`, when asked for. */
function limitRowsOf(options) {
  return ['bare', 'floor'].filter((row) => options.rows.includes(row)).length;
}

function stepCount(options) {
  const rows =
    ['direct', 'bare', 'floor', 'nginx', 'pass-through', 'dead-primary', 'cross-format'].filter((row) => options.rows.includes(row)).length +
    (options.rows.includes('stream-load') ? 2 + limitRowsOf(options) : 0) +
    (options.rows.includes('responses') ? 2 + limitRowsOf(options) : 0) +
    options.extras.length +
    (withRedisRow(options) ? 1 : 0) +
    (options.baseline ? ['pass-through', 'stream-load', 'responses'].filter((row) => options.rows.includes(row)).length : 0);
  return rows * (1 + options.connections.length * options.repeats) + (options.rows.includes('streaming') ? 1 : 0) + (options.rows.includes('failover') ? 5 : 0);
}

async function run(options, directory, progress) {
  const { isHelp: _isHelp, ...recordedOptions } = options;
  const results = { date: new Date().toISOString().slice(0, 10), startedAt: new Date().toISOString(), machine: machineInfo(), detour: { commit: detourCommit(), note: 'built from the working tree at run time' }, options: recordedOptions, rows: [], skipped: [], notes: [] };
  const startGateway = (name, config, build = mainJs) =>
    startProcess({ name: `gateway-${name}`, mainJs: build, directory, args: ['start', '--config', writeConfig(directory, name, config), '--port', '0', '--host', '127.0.0.1', '--log-level', options.logLevel], readyPattern: /listening on (http:\/\/\S+)/ });
  const skip = (row, reason) => {
    results.skipped.push({ row, reason });
    results.notes.push(`${row} skipped: ${reason}.`);
    progress.note(`skipping ${row}: ${reason}`);
  };

  const sim = await startProcess({ name: 'sim', mainJs, directory, args: ['sim', '--port', String(options.simPort), '--host', '127.0.0.1', '--chunk-delay', '0'], readyPattern: /simulator listening on (http:\/\/\S+)/ });
  progress.note(`simulator ${sim.url} (OpenAI base URL ${sim.url}/v1, pid ${sim.pid}); temp files in ${directory}`);

  // Every throughput row's server is up before the first cell, so the rows can be interleaved.
  const rows = [];
  const gateways = [];
  const detourRow = async (name, description, config, extra = {}, build = mainJs) => {
    const gateway = await startGateway(name, config, build);
    gateways.push(gateway);
    rows.push({ name, description, url: `${gateway.url}${extra.path ?? '/v1/chat/completions'}`, model: 'chat', gatewayPid: gateway.pid, ...extra });
  };
  const limits = await startLimitRows(options, sim, directory, skip);
  gateways.push(...limits.processes);
  if (options.rows.includes('direct')) rows.push({ name: 'direct', description: 'load straight at the simulator', url: `${sim.url}/v1/chat/completions`, model: models.healthy });
  rows.push(...limits.rows);
  if (options.rows.includes('pass-through')) await detourRow('pass-through', 'through Detour to one OpenAI-compatible target', passThroughConfig(sim.url));
  // Another build of Detour (`--baseline`), loaded interleaved with this one: a change's effect, measured in one run.
  if (options.baseline && options.rows.includes('pass-through')) await detourRow('pass-through (baseline)', `pass-through on the build at ${options.baseline}`, passThroughConfig(sim.url), {}, options.baseline);
  let redis;
  if (withRedisRow(options)) {
    redis = await startRedisServer(directory);
    progress.note(`redis-server ${redis.url} (pid ${redis.pid}) for the pass-through-redis row`);
    await detourRow('pass-through-redis', 'pass-through with state: { store: redis } (circuits, health, counters in Redis)', passThroughRedisConfig(sim.url, redis.url));
  }
  if (options.rows.includes('dead-primary')) {
    await detourRow('dead-primary', 'primary refuses connections, healthy backup; its circuit opens after 5 failures', deadPrimaryConfig(sim.url, await closedPort()), { backupModel: models.backup });
    results.notes.push('dead-primary: the first requests find the primary dead (each costs two refused connects and a backoff) until its circuit opens after 5 failures; from then on the primary is skipped at no cost, so this row measures "dead primary with an open circuit" and upstream calls to the dead primary per request fall to ~0.');
  }
  if (options.rows.includes('cross-format')) {
    const found = await startCrossFormatGateway(sim, startGateway, directory);
    if (found.gateway) {
      gateways.push(found.gateway);
      rows.push({ name: 'cross-format', description: `OpenAI client → Detour → Anthropic upstream (simulator, base_url ${found.baseUrl})`, url: `${found.gateway.url}/v1/chat/completions`, model: 'chat', gatewayPid: found.gateway.pid });
    } else skip('cross-format', found.reason);
  }
  if (options.rows.includes('stream-load')) {
    // Streamed answers under load: the same three hops, each request reading its stream to the end.
    rows.push({ name: 'direct (stream)', description: 'streamed requests straight at the simulator', url: `${sim.url}/v1/chat/completions`, model: models.healthy, isStream: true });
    for (const { title, ...limit } of limits.familyRows) rows.push({ ...limit, name: `${limit.name} (stream)`, description: `streamed requests through the ${title}`, isStream: true });
    await detourRow('pass-through (stream)', 'streamed requests through Detour to one OpenAI-compatible target', passThroughConfig(sim.url), { isStream: true });
    if (options.baseline) await detourRow('pass-through (stream, baseline)', `streamed pass-through on the build at ${options.baseline}`, passThroughConfig(sim.url), { isStream: true }, options.baseline);
  }
  if (options.rows.includes('responses')) {
    // The Responses API as Codex sends it, to an upstream that serves it: the same three hops.
    const responsesApi = { api: 'responses' };
    rows.push({ name: 'direct (responses)', description: 'Responses API requests straight at the simulator', url: `${sim.url}/v1/responses`, model: models.healthy, ...responsesApi });
    for (const { title, ...limit } of limits.familyRows) rows.push({ ...limit, name: `${limit.name} (responses)`, description: `Responses API requests through the ${title}`, url: limit.url.replace('/v1/chat/completions', '/v1/responses'), ...responsesApi });
    await detourRow('pass-through (responses)', 'Responses API requests through Detour to one target with api: responses', responsesPassThroughConfig(sim.url), { path: '/v1/responses', ...responsesApi });
    if (options.baseline) await detourRow('pass-through (responses, baseline)', `Responses API pass-through on the build at ${options.baseline}`, responsesPassThroughConfig(sim.url), { path: '/v1/responses', ...responsesApi }, options.baseline);
  }
  for (const [index, extra] of options.extras.entries()) {
    const headers = options.extraKey ? { authorization: `Bearer ${options.extraKey}` } : {};
    const name = `extra ${index + 1}: ${new URL(extra.url).host}`;
    const first = await tryOnce(extra.url, extra.model, headers);
    if (!first.ok) {
      skip(name, `a first request to ${extra.url} (model ${extra.model}) failed — ${first.problem}`);
      continue;
    }
    const sampled = extra.pid === undefined ? 'its CPU and memory not sampled (give --extra-pid)' : `pid ${extra.pid} sampled, peak RSS from VmRSS every 200 ms`;
    rows.push({ name, description: `another gateway at ${extra.url}, model ${extra.model}; ${sampled}`, url: extra.url, model: extra.model, headers, gatewayPid: extra.pid, isOwnGateway: false });
  }
  if (rows.length > 0) {
    results.rows = await measureRows(rows, { connections: options.connections, repeats: options.repeats, durationS: options.durationS, simUrl: sim.url, simPid: sim.pid, progress });
  }
  for (const gateway of gateways) await stopProcess(gateway);
  await redis?.stop();
  const redisNote = redisCostNote(results.rows);
  if (redisNote) results.notes.push(redisNote);

  if (options.rows.includes('streaming')) results.streaming = await runStreaming(options, sim, startGateway, progress);
  if (options.rows.includes('failover')) {
    const gateway = await startGateway('failover', failoverConfig(sim.url, await closedPort(), options.attemptTimeoutMs));
    results.failover = await measureFailover({ gatewayUrl: gateway.url, simUrl: sim.url, attemptTimeoutMs: options.attemptTimeoutMs, samples: options.failoverSamples, progress });
    await stopProcess(gateway);
  }
  if (options.rows.includes('library')) {
    // The in-process row runs in a process of its own, so that its figures are not shared with this one's load generator.
    progress.begin('library: in-process calls vs. direct HTTP');
    const row = spawnSync(process.execPath, [join(root, 'bench', 'library-row.mjs'), '--requests', options.isQuick ? '1000' : '3000'], { encoding: 'utf8', timeout: 300_000 });
    if (row.status === 0) results.libraryRow = row.stdout.trim();
    else skip('library', `bench/library-row.mjs exited ${row.status}: ${row.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
  results.notes.push(`Throughput cells run interleaved (each connection count: every row in turn, ${options.repeats} time(s)); a row shows the repeat with the median req/s and the highest peak RSS of its repeats. The load generator (autocannon) runs in the bench process, on the same cores as the simulator and the gateway; absolute figures are this machine's, ratios within one run are the comparable part.`);
  if (results.rows.some((row) => row.cells.some((cell) => cell.gatewayRssSinceStart))) results.notes.push('This kernel did not allow resetting VmHWM: peak RSS is since the gateway process started.');
  results.machine.loadAverageEnd = loadavg();
  results.finishedAt = new Date().toISOString();
  results.headline = computeHeadline(results);
  return results;
}

/**
 * The rows every figure is a ratio to: a bare node:http + undici proxy written for the bench (the
 * runtime's limit), nginx when it is installed (the limit of one hop), and the floor proxy (the
 * least work the issue's promises take on this runtime). `familyRows` also run streamed and
 * with the Responses API.
 */
async function startLimitRows(options, sim, directory, skip) {
  const rows = [];
  const familyRows = [];
  const processes = [];
  const nodeProxies = [
    { name: 'bare', title: 'bare Node proxy', script: 'bare-proxy.mjs', description: 'bare Node proxy: node:http + one undici Pool, bodies piped (bench/bare-proxy.mjs)' },
    { name: 'floor', title: 'floor proxy', script: 'floor-proxy.mjs', description: 'floor proxy: the bare proxy plus both bodies read whole, parsed and checked, one deadline, one count and one SQLite log row a request (bench/floor-proxy.mjs)' },
  ];
  for (const proxy of nodeProxies.filter((candidate) => options.rows.includes(candidate.name))) {
    const started = await startProcess({ name: `${proxy.name}-proxy`, mainJs: join(root, 'bench', proxy.script), args: ['--upstream', sim.url], directory, readyPattern: /proxy listening on (http:\/\/\S+)/ });
    processes.push(started);
    const row = { name: proxy.name, description: proxy.description, url: `${started.url}/v1/chat/completions`, model: models.healthy, gatewayPid: started.pid };
    rows.push(row);
    familyRows.push({ ...row, title: proxy.title });
  }
  if (options.rows.includes('nginx')) {
    const binary = findNginx();
    if (!binary) skip('nginx', 'nginx is not installed (not on PATH)');
    else {
      const nginx = await startNginx(binary, directory, sim.url);
      processes.push(nginx);
      rows.push({ name: 'nginx', description: 'nginx, 1 worker, keep-alive upstream, unbuffered (bench/lib/nginx.mjs)', url: `${nginx.url}/v1/chat/completions`, model: models.healthy, gatewayPid: nginx.pid });
    }
  }
  return { rows, familyRows, processes };
}

/** Time to first chunk and per-chunk cost, direct vs. a fresh pass-through gateway. */
async function runStreaming(options, sim, startGateway, progress) {
  const gateway = await startGateway('streaming', passThroughConfig(sim.url));
  progress.begin('streaming: direct vs. Detour');
  try {
    const [direct, detour] = await probeStreams({
      paths: [
        { name: 'direct', url: `${sim.url}/v1/chat/completions`, model: models.healthy },
        { name: 'through Detour', url: `${gateway.url}/v1/chat/completions`, model: 'chat' },
      ],
      samples: options.streamSamples,
      warmup: Math.min(50, options.streamSamples),
      maxMs: 120_000,
      onProgress: (done, total) => progress.update(done, total),
    });
    const chunksAfterFirst = detour.eventsPerStream - 1;
    return {
      paths: [direct, detour],
      addedFirstEventP50Ms: difference(detour.firstEventMs.p50, direct.firstEventMs.p50),
      chunksAfterFirst,
      perChunkOverheadUs: chunksAfterFirst > 0 ? (difference(detour.restMs.p50, direct.restMs.p50) * 1000) / chunksAfterFirst : undefined,
    };
  } finally {
    await stopProcess(gateway);
  }
}

/** A cross-format gateway, if this build accepts `type: anthropic` and a request gets through it. */
async function startCrossFormatGateway(sim, startGateway, directory) {
  const check = checkConfig(mainJs, writeConfig(directory, 'cross-format-check', crossFormatConfig(sim.url)));
  if (!check.isValid) {
    return { reason: `this build does not accept provider type "anthropic" (detour check: ${check.output.split('\n').at(-1)?.trim().replace(/ \(\/.*\)$/, '')})` };
  }
  let reason;
  // Where the adapter expects the API root is its own choice; try both spellings of the simulator's.
  for (const baseUrl of [sim.url, `${sim.url}/v1`]) {
    const gateway = await startGateway('cross-format', crossFormatConfig(baseUrl));
    const first = await tryOnce(`${gateway.url}/v1/chat/completions`, 'chat');
    if (first.ok) return { gateway, baseUrl };
    reason = `the config is accepted but no request got through (base_url ${baseUrl}: ${first.problem})`;
    await stopProcess(gateway);
  }
  return { reason };
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n(npm run bench -- --help lists the flags)\n`);
    process.exitCode = 2;
    return;
  }
  if (options.isHelp) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  setBodyKb(options.bodyKb);
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build first (npm run bench builds)`);
  if (options.baseline && !existsSync(options.baseline)) throw new Error(`--baseline ${options.baseline} does not exist (give a built dist/cli/main.js)`);
  const directory = mkdtempSync(join(tmpdir(), 'detour-bench-'));
  const progress = createProgress(stepCount(options));
  let isStopping = false;
  const stop = (signal) => {
    if (isStopping) process.exit(130);
    isStopping = true;
    progress.note(`\n${signal}: stopping the simulator and gateways`);
    stopAll().finally(() => {
      rmSync(directory, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('exit', killAllNow);
  let isDone = false;
  try {
    const results = await run(options, directory, progress);
    progress.done();
    const written = writeResults(results, resolve(root, options.outDirectory));
    process.stdout.write(`\n${toMarkdown(results)}\nwrote ${written.jsonPath} and ${written.markdownPath}\n`);
    isDone = true;
  } finally {
    await stopAll();
    // Keep the processes' logs when something went wrong: they usually say why.
    if (isDone) rmSync(directory, { recursive: true, force: true });
    else process.stderr.write(`\nlogs kept in ${directory}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`\nbench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
