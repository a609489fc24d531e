import { colorOf, errorColor, escapeHtml } from './html-escape.js';
import type { ScenarioReport } from './report-types.js';
import { compactMs } from './report-table.js';

const width = 960;
const margin = { left: 52, right: 16, top: 22, bottom: 30 };

interface Frame {
  height: number;
  plotWidth: number;
  plotHeight: number;
  x(ms: number): number;
  y(value: number): number;
}

function frame(durationMs: number, height: number, maxValue: number): Frame {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  return {
    height,
    plotWidth,
    plotHeight,
    x: (ms) => margin.left + (Math.min(Math.max(ms, 0), durationMs) / Math.max(1, durationMs)) * plotWidth,
    y: (value) => margin.top + plotHeight - (value / maxValue) * plotHeight,
  };
}

/** 1, 2, 5 × 10^n at or above `value`: axis tops people can read. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value) ?? 10 * power) as number;
}

function timeTicks(durationMs: number): number[] {
  const steps = [250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000];
  const step = steps.find((candidate) => durationMs / candidate <= 12) ?? 600_000;
  const ticks: number[] = [];
  for (let at = 0; at <= durationMs && ticks.length < 50; at += step) ticks.push(at);
  return ticks;
}

/** Shaded incident windows with their labels, and circuit transitions as vertical markers. */
function backdrop(scenario: ScenarioReport, f: Frame, withLabels: boolean): string {
  const parts: string[] = [];
  for (const incident of scenario.incidents) {
    for (const window of incident.windows) {
      // Drawn over the bars, translucent, so that the bars show through and the window still reads.
      parts.push(`<rect class="incident" x="${f.x(window.startMs).toFixed(1)}" y="${margin.top}" width="${Math.max(1, f.x(window.endMs) - f.x(window.startMs)).toFixed(1)}" height="${f.plotHeight}" fill="#f59e0b" fill-opacity="0.22" stroke="#d97706" stroke-opacity="0.6" stroke-width="1"><title>${escapeHtml(incident.label)}</title></rect>`);
    }
    if (withLabels) parts.push(`<text x="${(f.x(incident.startMs) + 4).toFixed(1)}" y="${margin.top - 7}" class="label">${escapeHtml(incident.label)}</text>`);
  }
  for (const event of scenario.stateEvents) {
    if (event.type !== 'circuit.opened' && event.type !== 'circuit.closed') continue;
    const color = event.type === 'circuit.opened' ? errorColor : '#16a34a';
    const x = f.x(event.atMs).toFixed(1);
    parts.push(`<line class="marker" x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + f.plotHeight}" stroke="${color}" stroke-dasharray="3 3" stroke-width="1"><title>${escapeHtml(`${compactMs(event.atMs)}: ${event.type} ${event.target} (${event.detail})`)}</title></line>`);
  }
  return parts.join('');
}

function axes(scenario: ScenarioReport, f: Frame, maxValue: number, format: (value: number) => string, tickCount = 4): string {
  const parts: string[] = [];
  for (let tick = 0; tick <= tickCount; tick++) {
    const value = (maxValue * tick) / tickCount;
    const y = f.y(value).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y}" class="tick" text-anchor="end" dominant-baseline="middle">${format(value)}</text>`);
  }
  for (const at of timeTicks(scenario.durationMs)) {
    parts.push(`<text x="${f.x(at).toFixed(1)}" y="${f.height - 10}" class="tick" text-anchor="middle">${compactMs(at)}</text>`);
  }
  parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + f.plotHeight}" y2="${margin.top + f.plotHeight}" stroke="#9ca3af"/>`);
  return parts.join('');
}

/**
 * Requests per serving target (stacked) and failed requests (red, on top) per time bucket, by
 * send time; incident windows shaded, circuits opening and closing marked.
 */
export function requestsChart(scenario: ScenarioReport): string {
  const series = scenario.series;
  const totals = series.buckets.map((bucket) => bucket.served.reduce((sum, count) => sum + count, 0) + bucket.errors);
  const maxValue = niceCeiling(Math.max(1, ...totals));
  const f = frame(scenario.durationMs, 280, maxValue);
  const barWidth = Math.max(1, (series.bucketMs / Math.max(1, scenario.durationMs)) * f.plotWidth - 1);
  const bars: string[] = [];
  for (const bucket of series.buckets) {
    let stacked = 0;
    const x = f.x(bucket.startMs).toFixed(1);
    const title = escapeHtml(
      `${compactMs(bucket.startMs)}–${compactMs(bucket.startMs + series.bucketMs)}: ${series.targets.map((target, index) => `${target} ${bucket.served[index] ?? 0}`).join(', ')}, failed ${bucket.errors}`,
    );
    const segments: Array<{ value: number; color: string }> = [...series.targets.map((_, index) => ({ value: bucket.served[index] ?? 0, color: colorOf(index) })), { value: bucket.errors, color: errorColor }];
    const rects: string[] = [];
    for (const segment of segments) {
      if (segment.value <= 0) continue;
      const top = f.y(stacked + segment.value);
      const height = f.y(stacked) - top;
      rects.push(`<rect class="bar" x="${x}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${Math.max(0.5, height).toFixed(1)}" fill="${segment.color}"><title>${title}</title></rect>`);
      stacked += segment.value;
    }
    const served = bucket.served.reduce((sum, count) => sum + count, 0);
    // The counts ride along, so that a test (or a script) can check the bars against report.json.
    if (rects.length > 0) bars.push(`<g class="bucket" data-start-ms="${bucket.startMs}" data-served="${served}" data-failed="${bucket.errors}">${rects.join('')}</g>`);
  }
  // Counts are whole: a low axis gets a tick per request, a higher one five (every nice ceiling from 10 up divides by 5).
  const tickCount = maxValue <= 5 ? maxValue : 5;
  return `<svg class="chart timeline-chart" viewBox="0 0 ${width} ${f.height}" role="img" aria-label="${escapeHtml(`requests per target and errors over time, ${scenario.name}`)}">${axes(scenario, f, maxValue, (value) => String(Math.round(value)), tickCount)}${bars.join('')}${backdrop(scenario, f, true)}</svg>`;
}

/** p95 latency of successful requests per time bucket, with the SLO's bound dashed. */
export function latencyChart(scenario: ScenarioReport): string {
  const series = scenario.series;
  const values = series.buckets.map((bucket) => bucket.p95Ms).filter((value): value is number => value !== null);
  const bound = scenario.p95Bound.ms;
  const maxValue = niceCeiling(Math.max(1, ...values, bound === null ? 0 : Math.min(bound, Math.max(1, ...values) * 2)));
  const f = frame(scenario.durationMs, 200, maxValue);
  // A bucket without a success breaks the line: nothing was measured there, and a line across would say otherwise.
  const runs: string[][] = [[]];
  const dots: string[] = [];
  for (const bucket of series.buckets) {
    if (bucket.p95Ms === null) {
      if ((runs[runs.length - 1] ?? []).length > 0) runs.push([]);
      continue;
    }
    const x = f.x(bucket.startMs + series.bucketMs / 2).toFixed(1);
    const y = f.y(bucket.p95Ms).toFixed(1);
    runs[runs.length - 1]?.push(`${x},${y}`);
    dots.push(`<circle cx="${x}" cy="${y}" r="2" fill="#111827"><title>${escapeHtml(`${compactMs(bucket.startMs)}: p95 ${compactMs(bucket.p95Ms)}`)}</title></circle>`);
  }
  const slo = bound !== null && bound <= maxValue ? `<line class="slo" x1="${margin.left}" x2="${width - margin.right}" y1="${f.y(bound).toFixed(1)}" y2="${f.y(bound).toFixed(1)}" stroke="${errorColor}" stroke-dasharray="6 4"><title>p95 bound ${escapeHtml(compactMs(bound))}</title></line>` : '';
  const line = runs
    .filter((points) => points.length > 1)
    .map((points) => `<polyline points="${points.join(' ')}" fill="none" stroke="#111827" stroke-width="1.5"/>`)
    .join('');
  return `<svg class="chart latency-chart" viewBox="0 0 ${width} ${f.height}" role="img" aria-label="${escapeHtml(`p95 latency over time, ${scenario.name}`)}">${backdrop(scenario, f, false)}${axes(scenario, f, maxValue, (value) => compactMs(value))}${slo}${line}${dots.join('')}</svg>`;
}
