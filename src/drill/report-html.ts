import { formatMs } from './duration.js';
import { colorOf, errorColor, escapeHtml } from './html-escape.js';
import { latencyChart, requestsChart } from './report-chart.js';
import type { DrillReport, ScenarioReport } from './report-types.js';
import { compactMs, formatDetect, formatPercentiles, formatRecover, formatUsd } from './report-table.js';
import { formatRate } from './verdict.js';

/** Shown in the state-event table at most; the JSON has them all. */
const maxStateEvents = 60;

const style = `
:root { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: #111827; background: #f9fafb; }
body { margin: 0 auto; max-width: 1040px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 0; } h3 { font-size: 14px; margin: 16px 0 6px; color: #374151; }
.meta { color: #4b5563; font-size: 13px; margin-bottom: 16px; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #f3f4f6; white-space: nowrap; }
th { color: #6b7280; font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; }
.pass { background: #16a34a; } .fail { background: ${errorColor}; } .stopped { background: #6b7280; }
.head { display: flex; gap: 12px; align-items: center; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px; margin: 12px 0; }
.figure { background: #f9fafb; border-radius: 6px; padding: 8px 10px; min-width: 0; } .figure b { display: block; font-size: 15px; overflow-wrap: anywhere; } .figure span { color: #6b7280; font-size: 12px; }
.chart { width: 100%; height: auto; display: block; } .chart .tick { font-size: 11px; fill: #6b7280; } .chart .label { font-size: 11px; fill: #92400e; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; color: #374151; margin: 4px 0 8px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
ul { margin: 4px 0; padding-left: 20px; font-size: 13px; } li.failed { color: ${errorColor}; }
.note { color: #92400e; font-size: 13px; }
`;

function figure(label: string, value: string, field?: string): string {
  return `<div class="figure"${field ? ` data-field="${field}"` : ''}><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;
}

function badge(passed: boolean): string {
  return `<span class="badge ${passed ? 'pass' : 'fail'}">${passed ? 'PASS' : 'FAIL'}</span>`;
}

function summaryTable(report: DrillReport): string {
  const cell = (field: string, text: string): string => `<td class="num" data-field="${field}">${escapeHtml(text)}</td>`;
  const rows = report.scenarios.map(
    (scenario) =>
      `<tr data-scenario="${escapeHtml(scenario.name)}"><td><a href="#${escapeHtml(scenario.name)}">${escapeHtml(scenario.name)}</a></td>${cell('success', scenario.successRate === null ? '—' : formatRate(scenario.successRate))}${cell('latency', formatPercentiles(scenario.latencyMs))}${cell('ttft', formatPercentiles(scenario.ttftMs))}${cell('amplification', scenario.amplification?.toFixed(2) ?? '—')}${cell('detect', formatDetect(scenario.timeToDetectMs))}${cell('recover', formatRecover(scenario.recovery.ms, scenario.recovery.observedMs))}${cell('cost', formatUsd(scenario.costUsd))}<td data-field="verdict">${badge(scenario.verdict.passed)}</td></tr>`,
  );
  return `<table class="summary"><thead><tr><th>scenario</th><th>success</th><th>latency p50/95/99</th><th>TTFT p50/95/99</th><th>amplification</th><th>detect</th><th>recover</th><th>cost</th><th>verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function legend(scenario: ScenarioReport): string {
  const items = scenario.series.targets.map((target, index) => `<span><i class="swatch" style="background:${colorOf(index)}"></i>${escapeHtml(target)}</span>`);
  items.push(`<span><i class="swatch" style="background:${errorColor}"></i>failed</span>`, '<span><i class="swatch" style="background:#f59e0b;opacity:.35"></i>incident</span>', '<span>┆ circuit opened (red) / closed (green)</span>');
  return `<div class="legend">${items.join('')}</div>`;
}

function list(entries: Record<string, number>): string {
  const items = Object.entries(entries).sort((a, b) => b[1] - a[1]);
  return items.length === 0 ? '<ul><li>none</li></ul>' : `<ul>${items.map(([name, count]) => `<li>${escapeHtml(name)}: ${count}</li>`).join('')}</ul>`;
}

function scenarioSection(scenario: ScenarioReport): string {
  const requests = scenario.requests;
  const incidents = scenario.incidents.map((incident) => `<li>${escapeHtml(incident.label)} on ${escapeHtml(incident.on)}, ${formatMs(incident.startMs)} → ${formatMs(incident.endMs)}</li>`).join('');
  const checks = scenario.verdict.checks.map((check) => `<li data-check="${escapeHtml(check.name)}" class="${check.passed ? '' : 'failed'}">${check.passed ? '✓' : '✗'} ${escapeHtml(check.name)}: ${escapeHtml(check.detail)}</li>`).join('');
  const events = scenario.stateEvents
    .slice(0, maxStateEvents)
    .map((event) => `<tr><td class="num">${compactMs(event.atMs)}</td><td>${escapeHtml(event.type)}</td><td>${escapeHtml(event.target)}</td><td>${escapeHtml(event.detail)}</td></tr>`)
    .join('');
  const scaled =
    scenario.scaledTimings.length === 0
      ? ''
      : `<p class="note scaled">Scaled with the incidents (×${scenario.scale.toFixed(3)}): ${escapeHtml(scenario.scaledTimings.map((timing) => `${timing.path} ${formatMs(timing.fromMs)} → ${formatMs(timing.toMs)}`).join(', '))}. Timeouts, backoff and fault latencies are not scaled.</p>`;
  return `<section id="${escapeHtml(scenario.name)}">
<div class="head"><h2>${escapeHtml(scenario.name)}</h2>${badge(scenario.verdict.passed)}</div>
<p class="meta">${escapeHtml(scenario.description)} Hit: ${escapeHtml(scenario.affectedTargets.join(', '))}.</p>
${scaled}
<ul>${incidents}</ul>
<div class="figures">
${figure('client-visible success (cut streams are failures)', scenario.successRate === null ? '—' : formatRate(scenario.successRate), 'success')}
${figure('latency p50/95/99', formatPercentiles(scenario.latencyMs))}
${figure('TTFT p50/95/99 (streams)', formatPercentiles(scenario.ttftMs))}
${figure('upstream calls per request', scenario.amplification?.toFixed(2) ?? '—')}
${figure('attempts per request (incl. refused)', scenario.attemptsPerRequest?.toFixed(2) ?? '—')}
${figure('time to detect', formatDetect(scenario.timeToDetectMs))}
${figure(`recovery (limit ${compactMs(scenario.recovery.withinMs)})`, formatRecover(scenario.recovery.ms, scenario.recovery.observedMs))}
${figure('back on the primary', formatRecover(scenario.timeToPrimaryMs, scenario.recovery.observedMs))}
${figure('first answer after the incident', formatRecover(scenario.firstAnswerAfterMs, scenario.recovery.observedMs))}
${figure(`cost${scenario.unpricedRequests > 0 ? ` (${scenario.unpricedRequests} unpriced)` : ''}`, formatUsd(scenario.costUsd))}
${figure('requests sent', String(requests.sent), 'sent')}
${figure('failed: errors / cut streams / hung / broken', `${requests.errors} / ${requests.cutStreams} / ${requests.hung} / ${requests.broken}`, 'failed')}
${figure('failovers / served away from the first target', `${scenario.failovers} / ${scenario.servedAway}`)}
${figure('streams / with tools', `${requests.streams} / ${requests.withTools}`)}
${figure('streams continued / not continued', `${scenario.resilience.continuedStreams} / ${scenario.resilience.streamsNotContinued}`)}
${figure('held for recovery / released / recovery probes', `${scenario.resilience.queuedForRecovery} / ${scenario.resilience.releasedByRecovery} / ${scenario.resilience.recoveryProbes}`)}
${figure('slow calls moved on', String(scenario.resilience.slowCallsMoved))}
</div>
<h3>Requests per target and failures over time (by send time, ${compactMs(scenario.series.bucketMs)} buckets)</h3>
${legend(scenario)}
${requestsChart(scenario)}
<h3>p95 latency of successful requests (dashed: the bound, ${compactMs(scenario.p95Bound.ms)})</h3>
${latencyChart(scenario)}
<h3>Verdict (success ≥ ${formatRate(scenario.successBar.rate)}, p95 ≤ ${compactMs(scenario.p95Bound.ms)}, recovery ≤ ${compactMs(scenario.recovery.withinMs)})</h3>
<ul>${checks}</ul>
<h3>Client-visible errors</h3>${list(scenario.errorCodes)}
<h3>Failed upstream attempts</h3>${list(scenario.upstreamFailures)}
<h3>Circuit and health transitions</h3>
${events ? `<table><thead><tr><th>at</th><th>event</th><th>target</th><th>detail</th></tr></thead><tbody>${events}</tbody></table>` : '<ul><li>none</li></ul>'}
${scenario.warnings.map((warning) => `<p class="note">${escapeHtml(warning)}</p>`).join('')}
</section>`;
}

/** The whole report as one self-contained page: inline CSS and SVG, no script, nothing fetched. */
export function renderHtml(report: DrillReport): string {
  const notes = report.notes.map((note) => `<p class="note">${escapeHtml(note)}</p>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Detour drill — ${escapeHtml(report.route)} — ${report.complete ? (report.passed ? 'PASS' : 'FAIL') : 'STOPPED'}</title>
<style>${style}</style></head>
<body>
<div class="head"><h1>Detour drill report</h1>${report.complete ? badge(report.passed) : '<span class="badge stopped">STOPPED</span>'}</div>
<p class="meta">Config ${escapeHtml(report.config)} · route <b>${escapeHtml(report.route)}</b> (${escapeHtml(report.targets.join(' → '))}) · ${report.rps} req/s · seed ${report.seed} · ${escapeHtml(report.startedAt)} → ${escapeHtml(report.finishedAt)}. Every upstream was a local simulator; no provider was called.</p>
${notes}
<section>${summaryTable(report)}</section>
${report.scenarios.map(scenarioSection).join('\n')}
</body></html>
`;
}
