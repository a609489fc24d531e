#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { runCheck } from './check-command.js';
import { runDemo } from './demo-command.js';
import { runDrillCommand } from './drill-command.js';
import { parseCliDuration } from '../drill/duration.js';
import { runSim } from './sim-command.js';
import { runKeysCreate, runKeysList, runKeysRevoke, runKeysRotate, runKeysShow } from './keys-command.js';
import { runStart } from './start-command.js';
import { defaultHeapGrowthPercent } from './heap-growth.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return port;
}

function parseDuration(value: string): number {
  try {
    return parseCliDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function parseHeapGrowth(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 300) throw new InvalidArgumentError('a whole percentage from 0 (V8 decides) to 300');
  return number;
}

const heapGrowthHelp = "how far the heap may grow past what the last full garbage collection kept, in percent, 1 to 300 (less memory, more CPU); 0: V8 decides";

function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('a number above 0');
  return number;
}

/** The version of the package this CLI ships in (dist/cli/main.js sits two folders below package.json). */
const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new Command();
program.name('detour').description('An LLM gateway that routes around provider outages.').version(packageVersion);

program
  .command('start')
  .description('serve a config file')
  .requiredOption('-c, --config <file>', 'the YAML config')
  .option('-p, --port <port>', 'port to listen on (overrides server.port)', parsePort)
  .option('-H, --host <host>', 'host to bind (overrides server.host)')
  .option('--log-level <level>', 'pino log level', 'info')
  .option('--heap-growth <percent>', heapGrowthHelp, parseHeapGrowth, defaultHeapGrowthPercent)
  .action(runStart);

program
  .command('check')
  .description('validate a config file and explain every problem')
  .requiredOption('-c, --config <file>', 'the YAML config')
  .action(runCheck);

program
  .command('sim')
  .description('run the provider simulator')
  .option('-p, --port <port>', 'port to listen on', parsePort, 9001)
  .option('-H, --host <host>', 'host to bind', '127.0.0.1')
  .option('--faults <file>', 'a YAML or JSON fault plan ({faults: [...], timeline: [...]})')
  .option('--chunk-delay <ms>', 'pause between stream chunks', (value) => Number(value), 20)
  .option('--echo', 'answer with the last user message')
  .option('--replay-json <file>', 'answer every non-streaming request with this captured body')
  .option('--replay-chunks <file>', 'answer every streaming request with these captured events (one JSON per line)')
  .action(runSim);

program
  .command('demo', { isDefault: false })
  .description('the gateway in front of two simulators, no keys or network needed (npm start)')
  .option('-p, --port <port>', 'port for the gateway', parsePort, 8787)
  .option('-H, --host <host>', 'host to bind', '127.0.0.1')
  .option('--log-level <level>', 'pino log level (info prints a line per request)', 'warn')
  .option('--no-traffic', 'no demo traffic or scripted incidents')
  .option('--heap-growth <percent>', heapGrowthHelp, parseHeapGrowth, defaultHeapGrowthPercent)
  .action(runDemo);

program
  .command('drill')
  .description('rehearse outages against a config: simulated upstreams, real Detour, scripted incidents, a pass/fail report')
  .requiredOption('-c, --config <file>', 'the YAML config to rehearse')
  .option('-s, --scenario <name|file>', 'outage, brownout, rate-limit-storm, latency-spike, stream-stall, flapping, total-outage, all, a YAML file, or a comma-separated list', 'all')
  .option('-d, --duration <duration>', "each scenario's length (60s, 2m); its own length by default, and a shorter one scales its times", parseDuration)
  .option('--rps <n>', 'requests per second, sent on schedule (open loop)', parsePositive, 50)
  .option('-r, --route <name>', 'the route under test (default: the first)')
  .option('-o, --out <dir>', 'where report.json and report.html go (default: ./detour-drill-<timestamp>/)')
  .option('--request-log <file>', 'keep a request log (SQLite) of the drill; off by default')
  .option('--seed <n>', 'seed for the load mix and fault draws', (value) => Math.trunc(parsePositive(value)), 1)
  .option('--no-progress', 'no progress line')
  .action(runDrillCommand);

function parseWhole(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('a whole number above 0');
  return number;
}

const keys = program.command('keys').description("virtual keys for clients, stored (as HMACs) in the request log's database");
keys
  .command('create')
  .description('create a key and print it once')
  .requiredOption('-c, --config <file>', 'the YAML config (for the database and auth.secret)')
  .requiredOption('--name <name>', 'a unique name: shown in metrics, the dashboard and the request log')
  .option('--routes <a,b>', 'routes the key may call (default: all)')
  .option('--rpm <n>', 'requests per minute', parseWhole)
  .option('--tpm <n>', 'tokens per minute', parseWhole)
  .option('--max-parallel <n>', 'requests in flight at once', parseWhole)
  .option('--budget-usd <usd>', 'spend allowed per --period', parsePositive)
  .option('--period <period>', 'day, week or month (UTC)')
  .option('--expires <duration>', 'lifetime, e.g. 90d')
  .option('--priority <priority>', 'high, normal or low', 'normal')
  .option('--upstream-keys <p.k,…>', 'upstream keys the key may use, as provider.key-name')
  .action(runKeysCreate);
keys.command('list').description('list keys (never their secrets)').requiredOption('-c, --config <file>', 'the YAML config').option('--json', 'JSON output').action(runKeysList);
keys.command('show').description("one key's settings").argument('<id>').requiredOption('-c, --config <file>', 'the YAML config').action(runKeysShow);
keys.command('revoke').description('revoke a key at once').argument('<id>').requiredOption('-c, --config <file>', 'the YAML config').action(runKeysRevoke);
keys
  .command('rotate')
  .description('give a key a new secret, printed once; the old one works for --overlap')
  .argument('<id>')
  .requiredOption('-c, --config <file>', 'the YAML config')
  .option('--overlap <duration>', 'how long the old secret keeps working, e.g. 24h (default: 0, it stops now)')
  .action(runKeysRotate);

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`detour: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
