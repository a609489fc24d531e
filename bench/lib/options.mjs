// Command-line flags (and BENCH_* environment variables) for bench/run.mjs.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const allRows = ['direct', 'bare', 'floor', 'nginx', 'pass-through', 'dead-primary', 'cross-format', 'stream-load', 'responses', 'streaming', 'failover', 'library'];

export const usage = `usage: npm run bench -- [flags]
  --duration S            seconds per throughput cell (default 5; --quick: 2)     env BENCH_DURATION
  --connections LIST      connection counts per row (default 1,32,128)            env BENCH_CONNECTIONS
  --repeat N              runs of each cell, interleaved across rows; the median is reported (default 2; --quick: 1)
  --quick                 short cells, one repeat, fewer samples
  --samples N             streamed requests per path (default 300; --quick: 100)
  --failover-samples N    sequential requests per failover case (default 50; --quick: 20)
  --attempt-timeout-ms MS attempt timeout for the timeout failover case (default 200)
  --rows LIST             subset of: ${allRows.join(',')} (default all)
  --extra-url URL         another OpenAI-compatible gateway to load as a row (repeatable);
                          a base URL (…/v1) or the full …/chat/completions URL
  --extra-model NAME      model to ask the extra gateway for (repeatable, paired with --extra-url; default chat)
  --extra-pid PID         the extra gateway's process id, to sample its CPU and RSS too (repeatable, paired)
  --extra-key KEY         bearer token sent to every extra gateway
  --sim-port N            fixed simulator port, so another gateway can be pointed at it (default: any free port)
  --log-level LEVEL       the gateway's log level (default info, as \`detour start\` ships)
  --state STORE           memory (default) or redis: redis also runs the pass-through row with
                          \`state: { store: redis }\` against a redis-server it starts (from PATH)
  --baseline MAIN_JS      another Detour build's dist/cli/main.js: adds the rows "pass-through (baseline)"
                          (and "pass-through (stream, baseline)" with stream-load, "pass-through (responses, baseline)"
                          with responses), loaded interleaved with
                          this build's, so a change is measured against what it replaces in one run
  --body-kb N             every row sends a coding agent's conversation of about N KB (default: one short question)
  --out DIR               where results go (default bench/results)
  --help`;

function list(text) {
  return text.split(',').map((item) => item.trim()).filter(Boolean);
}

function positiveNumber(name, text) {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} wants a positive number, got "${text}"`);
  return value;
}

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      quick: { type: 'boolean', default: false },
      repeat: { type: 'string' },
      samples: { type: 'string' },
      'failover-samples': { type: 'string' },
      'attempt-timeout-ms': { type: 'string', default: '200' },
      rows: { type: 'string' },
      'extra-url': { type: 'string', multiple: true, default: [] },
      'extra-model': { type: 'string', multiple: true, default: [] },
      'extra-pid': { type: 'string', multiple: true, default: [] },
      'extra-key': { type: 'string' },
      'sim-port': { type: 'string', default: '0' },
      'log-level': { type: 'string', default: 'info' },
      state: { type: 'string', default: 'memory' },
      out: { type: 'string', default: 'bench/results' },
      'body-kb': { type: 'string', default: '0' },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick;
  const rows = list(values.rows ?? allRows.join(','));
  for (const row of rows) if (!allRows.includes(row)) throw new Error(`--rows: unknown row "${row}" (known: ${allRows.join(', ')})`);
  const connections = list(values.connections ?? process.env.BENCH_CONNECTIONS ?? '1,32,128').map((text) => Math.round(positiveNumber('connections', text)));
  const extraModels = values['extra-model'];
  if (!['memory', 'redis'].includes(values.state)) throw new Error(`--state wants memory or redis, got "${values.state}"`);
  return {
    isHelp: values.help,
    isQuick: quick,
    durationS: positiveNumber('duration', values.duration ?? process.env.BENCH_DURATION ?? (quick ? '2' : '5')),
    connections,
    repeats: Math.round(positiveNumber('repeat', values.repeat ?? (quick ? '1' : '2'))),
    streamSamples: Math.round(positiveNumber('samples', values.samples ?? (quick ? '100' : '300'))),
    failoverSamples: Math.round(positiveNumber('failover-samples', values['failover-samples'] ?? (quick ? '20' : '50'))),
    attemptTimeoutMs: Math.round(positiveNumber('attempt-timeout-ms', values['attempt-timeout-ms'])),
    rows,
    extras: values['extra-url'].map((url, index) => ({
      url: chatCompletionsUrl(url),
      model: extraModels[index] ?? extraModels.at(-1) ?? 'chat',
      pid: values['extra-pid'][index] === undefined ? undefined : Math.round(positiveNumber('extra-pid', values['extra-pid'][index])),
    })),
    extraKey: values['extra-key'],
    simPort: Math.round(Number(values['sim-port'])),
    logLevel: values['log-level'],
    state: values.state,
    outDirectory: values.out,
    bodyKb: values['body-kb'] === '0' ? 0 : Math.round(positiveNumber('body-kb', values['body-kb'])),
    baseline: values.baseline === undefined ? undefined : resolve(values.baseline),
  };
}

/** Accepts `http://host:4000`, `http://host:4000/v1` or the full chat-completions URL. */
export function chatCompletionsUrl(url) {
  const trimmed = url.replace(/\/+$/, '');
  if (trimmed.endsWith('/chat/completions')) return trimmed;
  if (trimmed.endsWith('/v1')) return `${trimmed}/chat/completions`;
  return `${trimmed}/v1/chat/completions`;
}
