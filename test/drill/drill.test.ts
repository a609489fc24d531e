import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { runDrill } from '../../src/drill/drill.js';
import type { DrillReport, ScenarioReport, VerdictCheck } from '../../src/drill/report-types.js';
import { writeReport } from '../../src/drill/report-files.js';
import { formatRecover, renderTable } from '../../src/drill/report-table.js';
import { resolveScenarios } from '../../src/drill/scenarios.js';
import { formatRate } from '../../src/drill/verdict.js';
import { providerTypes } from '../../src/providers/registry.js';

const chromiumPath = '/usr/bin/chromium';
const timeoutMs = 12_000;

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
        // Slow enough to leave a slow primary that latency-spike's p95 stands far above any calm baseline, even on a loaded machine.
        attempt_timeout_ms: 6000,
        first_token_timeout_ms: 4000,
        stream_idle_timeout_ms: 2000,
      },
    },
  },
  { providerTypes: providerTypes(), env: {} },
);

let report: DrillReport;

/**
 * Whether Detour serves again as soon as every upstream is back after a total outage. Today it
 * does not: every circuit stays open for its (scaled) cooldown after the upstreams recovered,
 * and each request meanwhile fails with NO_TARGET_AVAILABLE. The resilience issue (14) changes
 * that; once it is on main this flips to true and the total-outage drill must PASS.
 */
const servesAgainAtOnce = true;

beforeAll(async () => {
  // Five scenarios of 3 s at 20 requests per second: their natural 60 s, scaled by 0.05.
  const short = await runDrill({ config, configPath: 'inline', scenarios: resolveScenarios('outage,brownout,rate-limit-storm,latency-spike,stream-stall'), durationMs: 3000, rps: 20, seed: 7 });
  // A total outage of 1 s in 6 s, so that its circuits surely open (a 3 s cooldown) however loaded the machine.
  const total = await runDrill({ config, configPath: 'inline', scenarios: resolveScenarios('total-outage'), durationMs: 6000, rps: 20, seed: 7 });
  report = { ...short, notes: [...new Set([...short.notes, ...total.notes])], scenarios: [...short.scenarios, ...total.scenarios], passed: short.passed && total.passed };
}, 150_000);

function scenario(name: string): ScenarioReport {
  const found = report.scenarios.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no ${name} in the report`);
  return found;
}

function check(result: ScenarioReport, name: string): VerdictCheck {
  const found = result.verdict.checks.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no ${name} check in ${result.name}`);
  return found;
}

describe('every scenario is judged on what its clients saw', () => {
  it('has the same four checks everywhere, the success rate against the route`s SLO unless the scenario states why not', () => {
    for (const result of report.scenarios) {
      expect(result.verdict.checks.map((each) => each.name)).toEqual(['success rate', 'p95 latency', 'recovery', 'clear errors in time']);
      expect(result.verdict.passed).toBe(result.verdict.checks.every((each) => each.passed));
      expect(result.successRate).toBe(result.requests.succeeded / result.requests.sent);
      if (result.name === 'total-outage') continue;
      expect(result.successBar).toMatchObject({ rate: 0.99, reason: null });
    }
  });

  it('shrinks the breaker`s timings with the incidents, says so, and describes the times it used', () => {
    const result = scenario('outage');
    expect(result.scaledTimings).toContainEqual({ path: 'breaker.open_ms', fromMs: 30_000, toMs: 1500 });
    expect(report.notes.join('\n')).toContain('breaker.open_ms 30 s → 1.5 s');
    expect(result.description).toContain('the primary: connections refused from 500 ms to 2 s (1.5 s)');
    expect(result.description).not.toContain('30 s');
  });
});

describe('a short drill with a healthy backup', () => {
  it.each(['outage', 'brownout', 'rate-limit-storm'])('%s: every client request succeeds, success never dips after the incident, upstream calls stay under 1.5 per request', (name) => {
    const result = scenario(name);
    expect(result.requests.sent).toBeGreaterThanOrEqual(55);
    expect(result.requests.streams).toBeGreaterThan(10);
    expect(result.requests.withTools).toBeGreaterThan(5);
    expect(result.requests.anthropicFormat).toBeGreaterThan(3);
    expect(result.successRate).toBe(1);
    expect(check(result, 'success rate').passed).toBe(true);
    expect(result.recovery.ms).toBe(0);
    expect(check(result, 'recovery').passed).toBe(true);
    expect(result.amplification).toBeLessThan(1.5);
    expect(check(result, 'clear errors in time').passed).toBe(true);
  });

  it('outage: the primary really went away, the engine`s failed attempts and failovers are counted, and the backup answered in its own wire format', () => {
    const result = scenario('outage');
    // Refused connections (or, on a pooled connection, resets) never reach the simulator's count, but the engine saw them.
    expect((result.upstreamFailures.UPSTREAM_CONNECT_FAILED ?? 0) + (result.upstreamFailures.UPSTREAM_CONNECTION_RESET ?? 0)).toBeGreaterThan(0);
    expect(result.failovers).toBeGreaterThan(0);
    expect(result.attemptsPerRequest).toBeGreaterThan(result.amplification ?? Infinity);
    expect(result.servedBy['backup/claude-3-5-haiku-latest']).toBeGreaterThan(0);
    expect(result.servedAway).toBe(result.servedBy['backup/claude-3-5-haiku-latest']);
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

describe('latency-spike', () => {
  it('fails when p95 is far above the calm baseline, however far below the route`s deadline it is', () => {
    const result = scenario('latency-spike');
    const p95 = result.latencyMs.p95 ?? 0;
    const bound = result.p95Bound;
    expect(bound.baselineP95Ms).not.toBeNull();
    // Requests sent to the slow primary wait out the 6 s attempt timeout (4 s for a stream's first token) before they fail over.
    expect(p95).toBeGreaterThan(4000);
    expect(p95).toBeGreaterThan(bound.ms ?? Infinity);
    expect(p95).toBeLessThan(timeoutMs);
    expect(bound.ms).toBe((bound.baselineP95Ms ?? 0) + (bound.failoverCostMs ?? 0));
    expect(check(result, 'p95 latency')).toMatchObject({ passed: false });
    expect(check(result, 'p95 latency').detail).toMatch(/^\d+(\.\d+)? s \(bound ≤ [\d.]+ (s|ms): the calm p95 [\d.]+ (s|ms) \+ one failover [\d.]+ (s|ms)\)$/);
    expect(result.verdict.passed).toBe(false);
    expect(result.upstreamFailures.UPSTREAM_ATTEMPT_TIMEOUT).toBeGreaterThan(0);
  });
});

describe('stream-stall', () => {
  it('continues every stream that stalls after its first bytes on the backup, tool calls included (held back whole): all complete, no error event', () => {
    const result = scenario('stream-stall');
    expect(result.resilience.continuedStreams).toBeGreaterThan(0);
    // Each continued stream's broken attempt is a failed upstream attempt, though its client never saw it.
    expect(result.upstreamFailures.UPSTREAM_STREAM_IDLE_TIMEOUT).toBeGreaterThanOrEqual(result.resilience.continuedStreams);
    expect(result.resilience.streamsNotContinued).toBe(0);
    expect(result.requests.cutStreams).toBe(0);
    expect(result.requests.errors).toBe(0);
    expect(result.requests.broken).toBe(0);
    expect(result.successRate).toBe(1);
    expect(check(result, 'success rate').passed).toBe(true);
  });
});

describe('a total outage', () => {
  it('holds requests until the route is back, answers any failure with a clear error within the deadline, and nothing hangs', () => {
    const result = scenario('total-outage');
    const failed = result.requests.sent - result.requests.succeeded;
    // Requests that arrive while everything is down wait for a recovery probe rather than fail.
    expect(result.requests.succeeded / result.requests.sent).toBeGreaterThanOrEqual(0.8);
    expect(result.requests.errors).toBe(failed);
    expect(result.requests.hung + result.requests.broken + result.requests.late).toBe(0);
    for (const code of Object.keys(result.errorCodes)) expect(code).toMatch(/^[A-Z][A-Z_]+$/);
    expect(check(result, 'clear errors in time').passed).toBe(true);
  });

  it('forgives only the requests sent during the incident, with its reason and allowance stated', () => {
    const result = scenario('total-outage');
    expect(result.successBar.reason).toBe('no routing can serve a request while every upstream refuses connections');
    // The incident is 2 s–3 s of 6 s: about a sixth of the requests were sent into it.
    expect(result.successBar.rate).toBeGreaterThan(0.75);
    expect(result.successBar.rate).toBeLessThan(0.87);
    expect(result.successBar.basis).toMatch(/^the \d+\.\d% of requests sent outside the incident, minus a 2-point allowance$/);
  });

  it(servesAgainAtOnce ? 'passes: Detour serves again as soon as the upstreams are back' : 'fails, naming the recovery time: circuits keep failing requests after the upstreams recovered', () => {
    const result = scenario('total-outage');
    if (servesAgainAtOnce) {
      expect(result.verdict, renderTable({ ...report, scenarios: [result] })).toMatchObject({ passed: true });
      expect(result.recovery.ms).not.toBeNull();
      // Requests held through the outage answered once it was over: the p95 bound says it includes that wait, and why.
      expect(result.resilience.queuedForRecovery).toBeGreaterThan(0);
      expect(result.resilience.releasedByRecovery).toBeGreaterThan(0);
      expect(result.firstAnswerAfterMs).not.toBeNull();
      expect(result.p95Bound.outageWait?.reason).toBe('a request sent while every upstream is down is held until one is back, not refused');
      expect(result.p95Bound.ms).toBe((result.p95Bound.baselineP95Ms ?? 0) + (result.p95Bound.failoverCostMs ?? 0) + (result.p95Bound.outageWait?.ms ?? 0));
      expect(check(result, 'p95 latency').detail).toContain("+ the outage's wait");
      return;
    }
    expect(result.verdict.passed, renderTable({ ...report, scenarios: [result] })).toBe(false);
    expect(result.errorCodes.NO_TARGET_AVAILABLE).toBeGreaterThan(0);
    expect(check(result, 'success rate').passed).toBe(false);
    const recovery = check(result, 'recovery');
    expect(recovery.passed).toBe(false);
    expect(recovery.detail).toMatch(/^success (not back at 99\.0% in the 3 s after the incident|back at 99\.0% [\d.]+ (s|ms) after the incident) \(limit [\d.]+ ms: 2 s ×0\.100 with the run/);
    expect(check(result, 'success rate').detail).toContain(recovery.detail.split(' (limit')[0]);
  });

  it('the drill as a whole fails when one scenario does', () => {
    expect(report.passed).toBe(false);
    expect(report.complete).toBe(true);
  });
});

describe('the HTML report', () => {
  it('opens in headless Chromium without errors, shows the timeline charts, and its numbers are the JSON`s', async (context) => {
    if (!existsSync(chromiumPath)) {
      if (process.env.CI) throw new Error(`${chromiumPath} is missing, and CI is set`);
      context.skip(`${chromiumPath} is missing: install Debian's chromium to run this test`);
    }
    const directory = mkdtempSync(join(tmpdir(), 'detour-drill-report-'));
    const paths = writeReport(report, directory);
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as DrillReport;
    expect(json).toMatchObject({ version: 1, route: 'chat', passed: false });
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
      expect(await charts.count()).toBe(json.scenarios.length);
      const first = charts.first();
      expect(await first.isVisible()).toBe(true);
      const box = await first.boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(box?.height).toBeGreaterThan(100);
      expect(await first.locator('rect.bar').count()).toBeGreaterThan(10);
      expect(await first.locator('rect.incident').count()).toBeGreaterThan(0);
      expect(await page.locator('table.summary tbody tr').count()).toBe(json.scenarios.length);
      for (const [index, result] of json.scenarios.entries()) {
        const row = page.locator(`table.summary tr[data-scenario="${result.name}"]`);
        expect(await row.locator('[data-field="success"]').textContent()).toBe(formatRate(result.successRate ?? 0));
        expect(await row.locator('[data-field="verdict"]').textContent()).toBe(result.verdict.passed ? 'PASS' : 'FAIL');
        expect(await row.locator('[data-field="recover"]').textContent()).toBe(formatRecover(result.recovery.ms, result.recovery.observedMs));
        const section = page.locator(`section#${result.name}`);
        expect(await section.locator('[data-field="success"] b').textContent()).toBe(formatRate(result.successRate ?? 0));
        const { errors, cutStreams, hung, broken } = result.requests;
        expect(await section.locator('[data-field="failed"] b').textContent()).toBe(`${errors} / ${cutStreams} / ${hung} / ${broken}`);
        for (const verdictCheck of result.verdict.checks) {
          expect(await section.locator(`li[data-check="${verdictCheck.name}"]`).textContent()).toBe(`${verdictCheck.passed ? '✓' : '✗'} ${verdictCheck.name}: ${verdictCheck.detail}`);
        }
        // The bars add up to what the JSON says was sent, served and failed: cut streams among the failures.
        const buckets = charts.nth(index).locator('g.bucket');
        const counts = await buckets.evaluateAll((groups) => groups.map((group) => [Number(group.getAttribute('data-served')), Number(group.getAttribute('data-failed'))]));
        expect(counts.reduce((sum, [served]) => sum + (served ?? 0), 0)).toBe(result.requests.succeeded);
        expect(counts.reduce((sum, [, failed]) => sum + (failed ?? 0), 0)).toBe(result.requests.sent - result.requests.succeeded);
      }
      expect(problems).toEqual([]);
      // Self-contained: the page itself is the only thing loaded.
      expect(requests).toEqual([`file://${paths.html}`]);
    } finally {
      await browser.close();
    }
  });
});
