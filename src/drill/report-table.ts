import { formatMs } from './duration.js';
import type { DrillReport, Percentiles, ScenarioReport } from './report-types.js';
import { formatRate } from './verdict.js';

/** `320ms`, `1.4s`, `—`: short enough for a table cell. */
export function compactMs(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')}s`;
}

export function formatPercentiles(values: Percentiles): string {
  return `${compactMs(values.p50)}/${compactMs(values.p95)}/${compactMs(values.p99)}`;
}

export function formatUsd(usd: number): string {
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

export function formatDetect(ms: number | null): string {
  return ms === null ? 'never' : compactMs(ms);
}

/** A recovery time; `>1.5s` when it never came within the time observed after the incident. */
export function formatRecover(ms: number | null, observedMs?: number): string {
  if (ms !== null) return compactMs(ms);
  return observedMs === undefined || observedMs === 0 ? '—' : `>${compactMs(observedMs)}`;
}

const headers = ['scenario', 'success', 'latency p50/95/99', 'TTFT p50/95/99', 'ampl.', 'detect', 'recover', 'cost', 'verdict'];

function row(scenario: ScenarioReport): string[] {
  return [
    scenario.name,
    scenario.successRate === null ? '—' : formatRate(scenario.successRate),
    formatPercentiles(scenario.latencyMs),
    formatPercentiles(scenario.ttftMs),
    scenario.amplification === null ? '—' : scenario.amplification.toFixed(2),
    formatDetect(scenario.timeToDetectMs),
    formatRecover(scenario.recovery.ms, scenario.recovery.observedMs),
    formatUsd(scenario.costUsd),
    scenario.verdict.passed ? 'PASS' : 'FAIL',
  ];
}

/** The report as a terminal table, with the reasons behind every failed verdict. */
export function renderTable(report: DrillReport): string {
  const rows = [headers, ...report.scenarios.map(row)];
  const widths = headers.map((_, column) => Math.max(...rows.map((cells) => (cells[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  const out: string[] = [];
  out.push(`Detour drill — route "${report.route}" (${report.targets.join(' → ')}), ${report.rps} req/s`, '');
  out.push(line(headers), line(widths.map((width) => '─'.repeat(width))));
  for (const cells of rows.slice(1)) out.push(line(cells));
  out.push('');
  for (const scenario of report.scenarios) {
    const failed = scenario.verdict.checks.filter((check) => !check.passed);
    const incidents = scenario.incidents.map((incident) => `${incident.label} on ${incident.on} ${formatMs(incident.startMs)}–${formatMs(incident.endMs)}`).join('; ');
    out.push(`${scenario.name}: ${scenario.requests.sent} requests over ${formatMs(scenario.durationMs)}${scenario.scale < 1 ? ` (times ×${scenario.scale.toFixed(3)})` : ''}; ${incidents}`);
    for (const check of failed) out.push(`  FAIL ${check.name}: ${check.detail}`);
    if (scenario.requests.cutStreams > 0) out.push(`  streams cut after their first token (failures): ${scenario.requests.cutStreams}`);
    const codes = Object.entries(scenario.errorCodes).map(([code, count]) => `${code} ×${count}`);
    if (codes.length > 0) out.push(`  client errors: ${codes.join(', ')}`);
    const upstream = Object.entries(scenario.upstreamFailures).map(([code, count]) => `${code} ×${count}`);
    out.push(`  failed upstream attempts: ${upstream.length > 0 ? upstream.join(', ') : 'none'}; failovers: ${scenario.failovers}; served away from the first target: ${scenario.servedAway}`);
    const resilience = scenario.resilience;
    if (resilience.continuedStreams + resilience.streamsNotContinued + resilience.recoveryProbes + resilience.queuedForRecovery + resilience.slowCallsMoved > 0) {
      out.push(
        `  streams continued: ${resilience.continuedStreams} (not continued: ${resilience.streamsNotContinued}${resilience.streamsNotContinued > 0 ? `: ${Object.entries(resilience.notContinuedReasons).map(([reason, count]) => `${reason.replace('_', ' ')} ×${count}`).join(', ')}` : ''}); requests held for recovery: ${resilience.queuedForRecovery} (released: ${resilience.releasedByRecovery}); recovery probes: ${resilience.recoveryProbes} (${resilience.recoveryProbesSucceeded} succeeded); slow calls moved on: ${resilience.slowCallsMoved}`,
      );
    }
    if (scenario.firstAnswerAfterMs !== null) out.push(`  first answer after the incident: ${compactMs(scenario.firstAnswerAfterMs)}; back on the primary: ${formatRecover(scenario.timeToPrimaryMs, scenario.recovery.observedMs)}`);
    if (scenario.p95Bound.outageWait) out.push(`  p95 bound includes the outage's wait (${compactMs(scenario.p95Bound.outageWait.ms)}): ${scenario.p95Bound.outageWait.reason}`);
    const region = scenario.region;
    if (region) {
      const served = Object.entries(region.servedByRegion).map(([name, count]) => `${name} ×${count}`).join(', ');
      const calls = Object.entries(region.upstreamCallsByRegion).map(([name, count]) => `${name} ×${count}`).join(', ');
      out.push(`  home region ${region.home}: back home ${formatRecover(region.returnHomeMs)} after its recovery (limit ${compactMs(region.withinMs)}); served by region: ${served || 'none'}; upstream calls by region: ${calls || 'none'}`);
    }
    for (const warning of scenario.warnings) out.push(`  note: ${warning}`);
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  out.push('', !report.complete ? 'Stopped before the end: no verdict.' : report.passed ? 'All verdicts passed.' : 'Some verdicts failed.');
  return `${out.join('\n')}\n`;
}
