import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { runDrill } from '../../src/drill/drill.js';
import type { DrillReport, ScenarioReport } from '../../src/drill/report-types.js';
import { writeReport } from '../../src/drill/report-files.js';
import { resolveScenarios } from '../../src/drill/scenarios.js';
import { providerTypes } from '../../src/providers/registry.js';

const chromiumPath = '/usr/bin/chromium';
const timeoutMs = 8000;

/**
 * A primary with two keys and a backup of another wire format (so failover translates), with
 * timeouts short enough that a drill of a few seconds never waits on a 20 s retry-after.
 * The base URLs are real providers': the drill must never call them.
 */
const config = validateConfig(
  {
    providers: {
      primary: { type: 'openai', base_url: 'https://api.openai.com/v1', api_keys: ['sk-real-key-one', 'sk-real-key-two'] },
      backup: { type: 'anthropic', base_url: 'https://api.anthropic.com', api_key: 'sk-ant-real' },
    },
    models: {
      chat: {
        targets: [
          { provider: 'primary', model: 'gpt-4o-mini' },
          { provider: 'backup', model: 'claude-3-5-haiku-latest', max_tokens: 1024 },
        ],
        retry: { attempts: 2, backoff_ms: 50, max_backoff_ms: 200 },
        timeout_ms: timeoutMs,
        attempt_timeout_ms: 4000,
        first_token_timeout_ms: 2000,
        stream_idle_timeout_ms: 2000,
      },
    },
  },
  { providerTypes: providerTypes(), env: {} },
);

let report: DrillReport;
let drillMs = 0;

beforeAll(async () => {
  const started = Date.now();
  // Four scenarios of 3 s at 20 requests per second: their natural 60 s, scaled by 0.05.
  report = await runDrill({ config, configPath: 'inline', scenarios: resolveScenarios('outage,brownout,rate-limit-storm,total-outage'), durationMs: 3000, rps: 20, seed: 7 });
  drillMs = Date.now() - started;
}, 60_000);

function scenario(name: string): ScenarioReport {
  const found = report.scenarios.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no ${name} in the report`);
  return found;
}

describe('a short drill with a healthy backup', () => {
  it.each(['outage', 'brownout', 'rate-limit-storm'])('%s: every client request succeeds, and upstream calls stay under 1.5 per request', (name) => {
    const result = scenario(name);
    expect(result.requests.sent).toBeGreaterThanOrEqual(55);
    expect(result.requests.streams).toBeGreaterThan(10);
    expect(result.requests.withTools).toBeGreaterThan(5);
    expect(result.requests.anthropicFormat).toBeGreaterThan(3);
    expect(result.successRate).toBe(1);
    expect(result.requests.succeeded).toBe(result.requests.sent);
    expect(result.amplification).not.toBeNull();
    expect(result.amplification).toBeLessThan(1.5);
    expect(result.verdict.checks.find((check) => check.name === 'clear errors in time')?.passed).toBe(true);
  });

  it('outage: the primary really went away, and the backup answered in its own wire format', () => {
    const result = scenario('outage');
    // Refused connections never reach the simulator's count, but the engine saw them.
    expect(result.upstreamFailures.UPSTREAM_CONNECT_FAILED).toBeGreaterThan(0);
    expect(result.attemptsPerRequest).toBeGreaterThan(result.amplification ?? Infinity);
    expect(result.servedBy['backup/claude-3-5-haiku-latest']).toBeGreaterThan(0);
    expect(result.incidents[0]).toMatchObject({ startMs: 500, endMs: 2000 });
  });

  it('brownout: the primary`s 503s were seen and hidden', () => {
    expect(scenario('brownout').upstreamFailures.UPSTREAM_OVERLOADED).toBeGreaterThan(0);
  });

  it('rate-limit-storm: a 429 on the first key moves traffic to the second key of the same provider', () => {
    const result = scenario('rate-limit-storm');
    expect(result.affectedTargets).toEqual(['primary/gpt-4o-mini#0']);
    expect(result.upstreamFailures.UPSTREAM_RATE_LIMITED).toBeGreaterThan(0);
    expect(result.servedBy['primary/gpt-4o-mini#1']).toBeGreaterThan(0);
    expect(result.timeToDetectMs).not.toBeNull();
  });
});

describe('a total outage', () => {
  it('answers every failed request with a clear error within the deadline, and nothing hangs', () => {
    const result = scenario('total-outage');
    const failed = result.requests.sent - result.requests.succeeded;
    expect(failed).toBeGreaterThan(0);
    expect(result.requests.errors).toBe(failed);
    expect(result.requests.hung).toBe(0);
    expect(result.requests.broken).toBe(0);
    expect(result.requests.late).toBe(0);
    for (const code of Object.keys(result.errorCodes)) expect(code).toMatch(/^[A-Z][A-Z_]+$/);
    expect(result.verdict.passed).toBe(true);
    expect(result.judging.slo).toBe(false);
  });

  it('whole drill stayed short: the scenario times were scaled, not the drill padded', () => {
    expect(report.passed).toBe(true);
    expect(drillMs).toBeLessThan(40_000);
  });
});

describe('the HTML report', () => {
  it('opens in headless Chromium without errors and shows the timeline chart', async (context) => {
    if (!existsSync(chromiumPath)) {
      if (process.env.CI) throw new Error(`${chromiumPath} is missing, and CI is set`);
      context.skip(`${chromiumPath} is missing: install Debian's chromium to run this test`);
    }
    const directory = mkdtempSync(join(tmpdir(), 'detour-drill-report-'));
    const paths = writeReport(report, directory);
    expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toMatchObject({ version: 1, route: 'chat', passed: true });
    const html = readFileSync(paths.html, 'utf8');
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${paths.html}`);
      const charts = page.locator('svg.timeline-chart');
      expect(await charts.count()).toBe(4);
      const first = charts.first();
      expect(await first.isVisible()).toBe(true);
      const box = await first.boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(box?.height).toBeGreaterThan(100);
      expect(await first.locator('rect.bar').count()).toBeGreaterThan(10);
      expect(await first.locator('rect.incident').count()).toBeGreaterThan(0);
      expect(await page.locator('table.summary tbody tr').count()).toBe(4);
      expect(problems).toEqual([]);
      // Self-contained: the page itself is the only thing loaded.
      expect(requests).toEqual([`file://${paths.html}`]);
    } finally {
      await browser.close();
    }
  });
});
