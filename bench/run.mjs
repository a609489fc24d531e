#!/usr/bin/env node
// `npm run bench`: the simulator and each gateway in its own process on loopback, load from this
// process; prints a markdown report and writes bench/results/<date>.json and .md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfig, crossFormatConfig, deadPrimaryConfig, failoverConfig, models, passThroughConfig, writeConfig } from './lib/configs.mjs';
import { measureFailover } from './lib/failover.mjs';
import { chatBody } from './lib/load.mjs';
import { parseOptions, usage } from './lib/options.mjs';
import { closedPort, killAllNow, startProcess, stopAll, stopProcess } from './lib/processes.mjs';
import { createProgress } from './lib/progress.mjs';
import { computeHeadline, toMarkdown, writeResults } from './lib/report.mjs';
import { probeStreams } from './lib/stream-probe.mjs';
import { measureRow } from './lib/throughput.mjs';

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

function stepCount(options) {
  const rows = ['direct', 'pass-through', 'dead-primary', 'cross-format'].filter((row) => options.rows.includes(row)).length + options.extras.length;
  return rows * (options.connections.length + 1) + (options.rows.includes('streaming') ? 1 : 0) + (options.rows.includes('failover') ? 5 : 0);
}

async function run(options, directory, progress) {
  const results = { date: new Date().toISOString().slice(0, 10), startedAt: new Date().toISOString(), machine: machineInfo(), detour: { commit: detourCommit(), note: 'built from the working tree at run time' }, options, rows: [], skipped: [], notes: [] };
  const load = { connections: options.connections, durationS: options.durationS, progress };
  const startGateway = (name, config) =>
    startProcess({ name: `gateway-${name}`, mainJs, directory, args: ['start', '--config', writeConfig(directory, name, config), '--port', '0', '--host', '127.0.0.1', '--log-level', options.logLevel], readyPattern: /listening on (http:\/\/\S+)/ });

  const sim = await startProcess({ name: 'sim', mainJs, directory, args: ['sim', '--port', String(options.simPort), '--host', '127.0.0.1', '--chunk-delay', '0'], readyPattern: /simulator listening on (http:\/\/\S+)/ });
  const simContext = { ...load, simUrl: sim.url, simPid: sim.pid };
  progress.note(`simulator ${sim.url} (OpenAI base URL ${sim.url}/v1, pid ${sim.pid}); temp files in ${directory}`);

  if (options.rows.includes('direct')) {
    results.rows.push(await measureRow({ name: 'direct', description: 'load straight at the simulator', url: `${sim.url}/v1/chat/completions`, model: models.healthy }, simContext));
  }
  if (options.rows.includes('pass-through')) {
    const gateway = await startGateway('pass-through', passThroughConfig(sim.url));
    results.rows.push(await measureRow({ name: 'pass-through', description: 'through Detour to one OpenAI-compatible target', url: `${gateway.url}/v1/chat/completions`, model: 'chat', gatewayPid: gateway.pid }, simContext));
    await stopProcess(gateway);
  }
  if (options.rows.includes('streaming')) {
    const gateway = await startGateway('streaming', passThroughConfig(sim.url));
    progress.begin('streaming: direct vs. Detour');
    const paths = await probeStreams({
      paths: [
        { name: 'direct', url: `${sim.url}/v1/chat/completions`, model: models.healthy },
        { name: 'through Detour', url: `${gateway.url}/v1/chat/completions`, model: 'chat' },
      ],
      samples: options.streamSamples,
      warmup: Math.min(50, options.streamSamples),
      maxMs: 120_000,
      onProgress: (done, total) => progress.update(done, total),
    });
    await stopProcess(gateway);
    const [direct, detour] = paths;
    const chunksAfterFirst = detour.eventsPerStream - 1;
    results.streaming = {
      paths,
      addedFirstEventP50Ms: detour.firstEventMs.p50 - direct.firstEventMs.p50,
      chunksAfterFirst,
      perChunkOverheadUs: chunksAfterFirst > 0 ? ((detour.restMs.p50 - direct.restMs.p50) * 1000) / chunksAfterFirst : undefined,
    };
  }
  if (options.rows.includes('dead-primary')) {
    const gateway = await startGateway('dead-primary', deadPrimaryConfig(sim.url, await closedPort()));
    results.rows.push(await measureRow({ name: 'dead-primary', description: 'primary refuses connections, healthy backup; default retry policy', url: `${gateway.url}/v1/chat/completions`, model: 'chat', gatewayPid: gateway.pid, backupModel: models.backup }, simContext));
    await stopProcess(gateway);
    results.notes.push('dead-primary: with no circuit breaker yet, every request calls the dead primary first and, with the default retry policy (2 attempts, full-jitter backoff ≤ 200 ms), retries it before failing over — the backoff, not CPU, bounds this row. Once circuit breakers land (issue 4) this row becomes "dead primary with open circuit" and should approach pass-through.');
  }
  if (options.rows.includes('cross-format')) await runCrossFormat(results, sim, startGateway, simContext, directory);
  for (const [index, extra] of options.extras.entries()) {
    const headers = options.extraKey ? { authorization: `Bearer ${options.extraKey}` } : {};
    const name = `extra ${index + 1}: ${new URL(extra.url).host}`;
    const first = await tryOnce(extra.url, extra.model, headers);
    if (!first.ok) {
      results.skipped.push({ row: name, reason: first.problem });
      results.notes.push(`${name} skipped: a first request to ${extra.url} (model ${extra.model}) failed — ${first.problem}`);
      progress.note(`skipping ${name}: ${first.problem}`);
      continue;
    }
    results.rows.push(await measureRow({ name, description: `another gateway at ${extra.url}, model ${extra.model} (its CPU and memory are not sampled)`, url: extra.url, model: extra.model }, { ...simContext, headers }));
  }
  if (options.rows.includes('failover')) {
    const gateway = await startGateway('failover', failoverConfig(sim.url, await closedPort(), options.attemptTimeoutMs));
    results.failover = await measureFailover({ gatewayUrl: gateway.url, simUrl: sim.url, attemptTimeoutMs: options.attemptTimeoutMs, samples: options.failoverSamples, progress });
    await stopProcess(gateway);
  }
  results.notes.push('The load generator (autocannon) runs in the bench process, on the same cores as the simulator and the gateway; absolute figures are this machine\'s, ratios within one run are the comparable part.');
  if (results.rows.some((row) => row.cells.some((cell) => cell.gatewayRssSinceStart))) results.notes.push('This kernel did not allow resetting VmHWM: peak RSS is since the gateway process started.');
  results.machine.loadAverageEnd = loadavg();
  results.finishedAt = new Date().toISOString();
  results.headline = computeHeadline(results);
  return results;
}

/** The row runs only if this build accepts `type: anthropic` and a request gets through. */
async function runCrossFormat(results, sim, startGateway, simContext, directory) {
  const { progress } = simContext;
  const check = checkConfig(mainJs, writeConfig(directory, 'cross-format-check', crossFormatConfig(sim.url)));
  let reason;
  if (!check.isValid) {
    reason = `this build does not accept provider type "anthropic" (detour check: ${check.output.split('\n').slice(-1)[0]})`;
  } else {
    // Where the adapter expects the API root is its own choice; try both spellings of the simulator's.
    for (const baseUrl of [sim.url, `${sim.url}/v1`]) {
      const gateway = await startGateway('cross-format', crossFormatConfig(baseUrl));
      const first = await tryOnce(`${gateway.url}/v1/chat/completions`, 'chat');
      if (first.ok) {
        results.rows.push(await measureRow({ name: 'cross-format', description: `OpenAI client → Detour → Anthropic upstream (simulator, base_url ${baseUrl})`, url: `${gateway.url}/v1/chat/completions`, model: 'chat', gatewayPid: gateway.pid }, simContext));
        await stopProcess(gateway);
        return;
      }
      reason = `the config is accepted but no request got through (base_url ${baseUrl}: ${first.problem})`;
      await stopProcess(gateway);
    }
  }
  results.skipped.push({ row: 'cross-format', reason });
  results.notes.push(`cross-format skipped: ${reason}.`);
  progress.note(`skipping cross-format: ${reason}`);
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.isHelp) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build first (npm run bench builds)`);
  const directory = mkdtempSync(join(tmpdir(), 'detour-bench-'));
  const progress = createProgress(stepCount(options));
  let isStopping = false;
  const stop = (signal) => {
    if (isStopping) process.exit(130);
    isStopping = true;
    progress.note(`\n${signal}: stopping the simulator and gateways`);
    stopAll().finally(() => process.exit(130));
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
