// Turns one run's measurements into the headline (ratios to direct, beside the issue's goals),
// a markdown report, and the files bench/results/<date>.json and .md.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { difference, ratio } from './stats.mjs';

export const goals = {
  throughputRatio: { min: 0.3, text: '≥ 30% of direct' },
  bareRatio: { min: 0.75, text: '≥ 0.75 × bare' },
  cpuRatio: { atMost: 1.5, text: '≤ 1.5 × bare' },
  addedLatencyMs: { atMost: 0.15, text: '≤ 0.15 ms' },
  addedFirstChunkMs: { max: 0.5, text: '< 0.5 ms' },
  peakRssMb: { atMost: 150, text: '≤ 150 MB' },
  deadPrimaryRatio: { min: 0.9, text: '≥ 0.9 × pass-through' },
};

function cellAt(row, connections) {
  return row?.cells.find((cell) => cell.connections === connections);
}

/** The row a row is divided by: `direct` or `bare` of its family (streamed, or the Responses API). */
function baseRow(results, row, name) {
  const family = row.api === 'responses' ? 'responses' : row.isStream ? 'stream' : undefined;
  return results.rows.find((candidate) => candidate.name === (family ? `${name} (${family})` : name));
}

function verdict(value, goal) {
  if (value === undefined || Number.isNaN(value)) return 'not measured';
  if (goal.min !== undefined) return value >= goal.min ? 'met' : 'not met';
  if (goal.atMost !== undefined) return value <= goal.atMost ? 'met' : 'not met';
  return value < goal.max ? 'met' : 'not met';
}

/** The figures the issue asks about, each with its goal and whether this run met it. */
export function computeHeadline(results) {
  const direct = results.rows.find((row) => row.name === 'direct');
  const passThrough = results.rows.find((row) => row.name === 'pass-through');
  const counts = results.options.connections;
  const lowest = Math.min(...counts);
  const highest = Math.max(...counts);
  const items = counts.map((count) => {
    const value = ratio(cellAt(passThrough, count)?.requestsPerSecond, cellAt(direct, count)?.requestsPerSecond);
    return { measure: `throughput, pass-through ÷ direct @ ${count} conn.`, goal: goals.throughputRatio.text, value, unit: 'ratio', verdict: verdict(value, goals.throughputRatio) };
  });
  const addedLatency = difference(cellAt(passThrough, lowest)?.latencyP50Ms, cellAt(direct, lowest)?.latencyP50Ms);
  items.push({ measure: `added p50 latency @ ${lowest} conn. (pass-through − direct)`, goal: goals.addedLatencyMs.text, value: addedLatency, unit: 'ms', verdict: verdict(addedLatency, goals.addedLatencyMs) });
  const bare = results.rows.find((row) => row.name === 'bare');
  const streamed = results.rows.find((row) => row.name === 'pass-through (stream)');
  const bareStreamed = results.rows.find((row) => row.name === 'bare (stream)');
  const deadPrimary = results.rows.find((row) => row.name === 'dead-primary');
  for (const count of counts.filter((value) => value > 1)) {
    const value = ratio(cellAt(passThrough, count)?.requestsPerSecond, cellAt(bare, count)?.requestsPerSecond);
    items.push({ measure: `throughput, pass-through ÷ bare Node proxy @ ${count} conn.`, goal: goals.bareRatio.text, value, unit: 'times', verdict: verdict(value, goals.bareRatio) });
    const streamValue = ratio(cellAt(streamed, count)?.requestsPerSecond, cellAt(bareStreamed, count)?.requestsPerSecond);
    if (streamed) items.push({ measure: `streamed throughput, pass-through ÷ bare @ ${count} conn.`, goal: goals.bareRatio.text, value: streamValue, unit: 'times', verdict: verdict(streamValue, goals.bareRatio) });
    const cpu = ratio(cellAt(passThrough, count)?.gatewayCpuUsPerRequest, cellAt(bare, count)?.gatewayCpuUsPerRequest);
    items.push({ measure: `CPU per request, pass-through ÷ bare @ ${count} conn.`, goal: goals.cpuRatio.text, value: cpu, unit: 'times', verdict: verdict(cpu, goals.cpuRatio) });
    if (deadPrimary) {
      const dead = ratio(cellAt(deadPrimary, count)?.requestsPerSecond, cellAt(passThrough, count)?.requestsPerSecond);
      items.push({ measure: `throughput, dead-primary ÷ pass-through @ ${count} conn.`, goal: goals.deadPrimaryRatio.text, value: dead, unit: 'times', verdict: verdict(dead, goals.deadPrimaryRatio) });
    }
  }
  const addedFirstChunk = results.streaming?.addedFirstEventP50Ms;
  items.push({ measure: 'added time to first streamed chunk (p50)', goal: goals.addedFirstChunkMs.text, value: addedFirstChunk, unit: 'ms', verdict: verdict(addedFirstChunk, goals.addedFirstChunkMs) });
  const detourRows = results.rows.filter((row) => !/^(direct|bare|floor|nginx|extra)\b/.test(row.name) && !row.name.includes('baseline'));
  const rss = Math.max(...detourRows.map((row) => cellAt(row, highest)?.gatewayPeakRssMb).filter((value) => value !== undefined));
  const rssValue = Number.isFinite(rss) ? rss : undefined;
  items.push({ measure: `gateway peak RSS @ ${highest} conn. (worst Detour row)`, goal: goals.peakRssMb.text, value: rssValue, unit: 'MB', verdict: verdict(rssValue, goals.peakRssMb) });
  return items;
}

const format = {
  ms: (value) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(2)),
  int: (value) => (value === undefined || Number.isNaN(value) ? '–' : Math.round(value).toLocaleString('en-US')),
  one: (value) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(1)),
  two: (value) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(2)),
  three: (value) => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(3)),
  percent: (value) => (value === undefined || Number.isNaN(value) ? '–' : `${Math.round(value * 100)}%`),
};

function headlineValue(item) {
  if (item.unit === 'ratio') return format.percent(item.value);
  if (item.unit === 'times') return `${format.two(item.value)} ×`;
  if (item.unit === 'MB') return `${format.one(item.value)} MB`;
  return `${format.ms(item.value)} ms`;
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function throughputTable(results) {
  const lines = [];
  for (const row of results.rows) {
    const direct = baseRow(results, row, 'direct');
    const bare = baseRow(results, row, 'bare');
    for (const cell of row.cells) {
      const calls = cell.deadPrimaryCallsPerRequest !== undefined ? `${format.two(cell.upstreamCallsPerRequest)} (dead: ${format.two(cell.deadPrimaryCallsPerRequest)})` : format.two(cell.upstreamCallsPerRequest);
      const bareCell = cellAt(bare, cell.connections);
      lines.push([
        row.name,
        cell.connections,
        format.int(cell.requestsPerSecond),
        row === direct ? '–' : format.three(ratio(cell.requestsPerSecond, cellAt(direct, cell.connections)?.requestsPerSecond)),
        row === bare || row === direct ? '–' : format.three(ratio(cell.requestsPerSecond, bareCell?.requestsPerSecond)),
        format.ms(cell.latencyP50Ms),
        format.ms(cell.latencyP99Ms),
        `${cell.non2xx} / ${cell.errors}`,
        cell.gatewayCpuUsPerRequest === undefined ? '–' : `${format.int(cell.gatewayCpuUsPerRequest)} (${format.percent(cell.gatewayCpuSystemShare)} kernel)`,
        row === bare || cell.gatewayCpuUsPerRequest === undefined ? '–' : format.two(ratio(cell.gatewayCpuUsPerRequest, bareCell?.gatewayCpuUsPerRequest)),
        format.one(cell.gatewayPeakRssMb),
        calls,
      ]);
    }
  }
  return table(['row', 'conn.', 'req/s (2xx)', '÷ direct', '÷ bare', 'p50 ms', 'p99 ms', 'non-2xx / errors', 'proxy CPU µs/req', 'CPU ÷ bare', 'proxy peak RSS MB', 'upstream calls/req'], lines);
}

function streamingSection(streaming) {
  if (!streaming) return '_not run_';
  const rows = streaming.paths.map((path) => [path.name, format.ms(path.firstEventMs.p50), format.ms(path.firstEventMs.p99), format.ms(path.restMs.p50), format.ms(path.totalMs.p50), format.int(path.eventsPerStream), `${path.firstEventMs.count}${path.failures ? ` (${path.failures} failed)` : ''}`]);
  return [
    table(['path', 'first chunk p50 ms', 'first chunk p99 ms', 'rest of stream p50 ms', 'whole stream p50 ms', 'chunks', 'samples'], rows),
    '',
    `Added to the first chunk (p50): **${format.ms(streaming.addedFirstEventP50Ms)} ms**; per-chunk overhead after the first: **${format.int(streaming.perChunkOverheadUs)} µs** (p50 of the rest of the stream, Detour − direct, ÷ ${format.int(streaming.chunksAfterFirst)} chunks). Simulator chunk delay 0 ms.`,
  ].join('\n');
}

function failoverSection(failover) {
  if (!failover) return '_not run_';
  const rows = failover.map((failure) => [
    failure.name,
    format.ms(failure.failing.latencyMs.p50),
    format.ms(failure.failing.latencyMs.p99),
    format.ms(failure.healthy.latencyMs.p50),
    `**${format.ms(failure.addedP50Ms)}**`,
    format.two(failure.failing.upstreamCallsPerRequest),
    format.percent(failure.failing.failoverShare),
    `${failure.failing.latencyMs.count}${failure.failing.non200 ? ` (${failure.failing.non200} non-200)` : ''}`,
  ]);
  return table(['primary fails with', 'p50 ms', 'p99 ms', 'healthy p50 ms (paired)', 'added p50 ms', 'upstream calls/req', 'served by backup', 'samples'], rows);
}

/**
 * What translation costs (cross-format ÷ pass-through) and what a dead primary costs once its
 * circuit is open (dead-primary ÷ pass-through; the goal is at least 90%).
 */
/**
 * Each goal beside what the floor proxy reached in the same run: the floor does only the work the
 * issue's promises take (bodies checked, a deadline, a count, a log row), so where even the floor
 * misses a goal, or meets it with less room than Detour's other features take, no build of this
 * design can meet it on this machine.
 */
function floorTable(results) {
  const named = (name) => results.rows.find((row) => row.name === name);
  const counts = results.options.connections;
  const lowest = Math.min(...counts);
  const highest = Math.max(...counts);
  const lines = [];
  const add = (measure, goal, of, show = format.two) => {
    const [bare, floor, detour] = ['bare', 'floor', 'pass-through'].map((name) => of(name));
    if (floor === undefined && detour === undefined) return;
    lines.push([measure, goal, show(bare), show(floor), show(detour)]);
  };
  const direct = named('direct');
  add(`added p50 ms @ ${lowest} conn. (row − direct)`, goals.addedLatencyMs.text, (name) => difference(cellAt(named(name), lowest)?.latencyP50Ms, cellAt(direct, lowest)?.latencyP50Ms));
  for (const count of counts.filter((value) => value > 1)) {
    add(`req/s ÷ bare @ ${count} conn.`, goals.bareRatio.text, (name) => ratio(cellAt(named(name), count)?.requestsPerSecond, cellAt(named('bare'), count)?.requestsPerSecond));
    add(`streamed req/s ÷ bare (stream) @ ${count} conn.`, goals.bareRatio.text, (name) => ratio(cellAt(named(`${name} (stream)`), count)?.requestsPerSecond, cellAt(named('bare (stream)'), count)?.requestsPerSecond));
    add(`CPU µs/req ÷ bare @ ${count} conn.`, goals.cpuRatio.text, (name) => ratio(cellAt(named(name), count)?.gatewayCpuUsPerRequest, cellAt(named('bare'), count)?.gatewayCpuUsPerRequest));
    add(`CPU µs/req @ ${count} conn.`, '–', (name) => cellAt(named(name), count)?.gatewayCpuUsPerRequest, format.int);
  }
  add(`peak RSS MB @ ${highest} conn.`, goals.peakRssMb.text, (name) => cellAt(named(name), highest)?.gatewayPeakRssMb, format.one);
  if (lines.length === 0 || !named('floor')) return '_the floor row was not run_';
  return table(['measure', 'goal', 'bare', 'floor', 'Detour pass-through'], lines);
}

function rowRatiosTable(results) {
  const passThrough = results.rows.find((row) => row.name === 'pass-through');
  const streamed = results.rows.find((row) => row.name === 'pass-through (stream)');
  const pairs = [
    ...['cross-format', 'dead-primary', 'pass-through-redis'].map((name) => [results.rows.find((row) => row.name === name), passThrough]),
    // A baseline build reads the other way round: this build ÷ the baseline.
    [passThrough, results.rows.find((row) => row.name === 'pass-through (baseline)')],
    [streamed, results.rows.find((row) => row.name === 'pass-through (stream, baseline)')],
  ].filter(([row, base]) => row && base);
  const rows = [];
  for (const [row, baseRowOf] of pairs) {
    for (const cell of row.cells) {
      const base = cellAt(baseRowOf, cell.connections);
      rows.push([
        `${row.name} ÷ ${baseRowOf.name}`,
        String(cell.connections),
        format.percent(ratio(cell.requestsPerSecond, base?.requestsPerSecond)),
        format.two(difference(cell.latencyP50Ms, base?.latencyP50Ms)),
        format.two(ratio(cell.gatewayCpuUsPerRequest, base?.gatewayCpuUsPerRequest)),
      ]);
    }
  }
  if (rows.length === 0) return '_no rows to compare_';
  return table(['rows', 'conn.', 'req/s ratio', 'added p50 ms', 'CPU µs/req ratio'], rows);
}

export function toMarkdown(results) {
  const machine = results.machine;
  const lines = [
    `# Detour benchmark — ${results.date}`,
    '',
    `${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemoryGb} GB, ${machine.platform} ${machine.release}, Node ${machine.node}; load average ${machine.loadAverageStart.map((value) => value.toFixed(2)).join(' ')} at start. ` +
      `Mode: ${results.options.isQuick ? 'quick' : 'full'}, ${results.options.durationS} s per cell × ${results.options.repeats} repeat(s), connections ${results.options.connections.join(', ')}; ${results.options.bodyKb ? `requests of about ${results.options.bodyKb} KB (a coding agent's conversation, \`--body-kb\`)` : 'one short question per request'}; gateway log level ${results.options.logLevel}. ` +
      `Detour ${results.detour.commit ?? 'unknown commit'}${results.detour.note ? ` (${results.detour.note})` : ''}. Simulator, gateway and load generator are separate processes on the same machine.`,
    '',
    '## Headline (ratios to direct and to the bare Node proxy, same run)',
    '',
    table(['measure', 'goal', 'measured', ''], results.headline.map((item) => [item.measure, item.goal, headlineValue(item), item.verdict])),
    '',
    '## Throughput (non-streaming)',
    '',
    throughputTable(results),
    '',
    '## The goals beside the floor (the least work the promises take; same run)',
    '',
    floorTable(results),
    '',
    '## Detour rows against pass-through (same run)',
    '',
    rowRatiosTable(results),
    '',
    '## Streaming (sequential, one connection)',
    '',
    streamingSection(results.streaming),
    '',
    '## Cost of a failover (sequential, one connection)',
    '',
    failoverSection(results.failover),
  ];
  if (results.libraryRow) lines.push('', results.libraryRow.replace(/^## /, '## '));
  if (results.notes.length > 0) lines.push('', '## Notes', '', ...results.notes.map((note) => `- ${note}`));
  return `${lines.join('\n')}\n`;
}

export function writeResults(results, directory) {
  mkdirSync(directory, { recursive: true });
  // A day's second run gets names of its own: results already written (and committed) stay as they were.
  let name = results.date;
  for (let run = 2; existsSync(join(directory, `${name}.json`)) || existsSync(join(directory, `${name}.md`)); run++) name = `${results.date}-${run}`;
  const jsonPath = join(directory, `${name}.json`);
  const markdownPath = join(directory, `${name}.md`);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(markdownPath, toMarkdown(results));
  return { jsonPath, markdownPath };
}
