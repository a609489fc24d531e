import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderHtml } from './report-html.js';
import type { DrillReport } from './report-types.js';

/**
 * A new `detour-drill-2025-06-01T12-30-05` in the current directory: sortable, safe on every
 * file system, and never one an earlier drill of the same second wrote (`-2`, `-3`, … then).
 */
export function defaultOutDirectory(now = new Date(), cwd = process.cwd()): string {
  const base = join(cwd, `detour-drill-${now.toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-')}`);
  for (let suffix = 2; suffix < 100 && existsSync(base); suffix++) {
    const candidate = `${base}-${suffix}`;
    if (!existsSync(candidate)) return candidate;
  }
  return base;
}

/** Writes `report.json` and `report.html` into `directory` (created if needed); returns their paths. */
export function writeReport(report: DrillReport, directory: string): { json: string; html: string } {
  const root = resolve(directory);
  mkdirSync(root, { recursive: true });
  const json = join(root, 'report.json');
  const html = join(root, 'report.html');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, renderHtml(report));
  return { json, html };
}
