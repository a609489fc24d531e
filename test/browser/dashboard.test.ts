import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
// CI installs Chromium: there a missing browser is a failure, not a reason to skip.
if (!hasChromium && process.env.CI) throw new Error(`${chromiumPath} is missing, and CI is set: .ci/run must install Debian's chromium`);
/** Set to a path (e.g. docs/dashboard.png) to save a screenshot of the dashboard during the outage. */
const screenshotPath = process.env.DETOUR_DASHBOARD_SCREENSHOT;

const cleanup = new Cleanup();
let browser: Browser | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => cleanup.run());

/** Records what a page complains about: console errors and uncaught exceptions. */
async function openPage(url: string): Promise<{ page: Page; problems: string[] }> {
  const context = await (browser as Browser).newContext({ viewport: { width: 1440, height: 1100 } });
  cleanup.add({ close: () => context.close() });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(url);
  return { page, problems };
}

async function gatewayWithTraffic(extra: Record<string, unknown> = {}): Promise<{ gateway: RunningGateway; primary: Simulator; stop(): Promise<void> }> {
  const primary = cleanup.add(await startSim({ chunkDelayMs: 5 }));
  const backup = cleanup.add(await startSim({ chunkDelayMs: 5 }));
  const gateway = cleanup.add(
    await startGateway(
      {
        providers: { primary: openAiProvider(primary, 'sk-primary-0001'), backup: openAiProvider(backup, 'sk-backup-0002') },
        models: {
          chat: {
            targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }],
            retry: { attempts: 2, backoff_ms: 5, max_backoff_ms: 20 },
            slo: { success_rate: 0.999, p95_ms: 5000 },
          },
        },
        // Open long enough that the test sees it open, and short failovers count quickly.
        breaker: { open_ms: 60_000 },
        ...extra,
      },
      { processMetrics: false },
    ),
  );
  let isRunning = true;
  const loop = (async () => {
    for (let index = 0; isRunning; index++) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat', stream: index % 3 === 0, messages: [{ role: 'user', content: `Hello ${index}` }] }),
      }).catch(() => undefined);
      await response?.arrayBuffer().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
  })();
  const stop = async (): Promise<void> => {
    isRunning = false;
    await loop;
  };
  cleanup.add({ close: stop });
  return { gateway, primary, stop };
}

describe.skipIf(!hasChromium)('dashboard in a real browser (skipped without /usr/bin/chromium)', () => {
  it('loads cleanly, then shows the primary open and the failover live when the primary goes down', async () => {
    const { gateway, primary } = await gatewayWithTraffic();
    const { page, problems } = await openPage(`${gateway.url}/dashboard`);
    const primaryRow = page.locator('#targets tr[data-target="primary/gpt-4o-mini"]');
    await expect.poll(() => primaryRow.locator('[data-field="circuit"]').textContent(), { timeout: 5000 }).toBe('closed');
    await expect.poll(() => page.locator('#requests tbody tr[data-request]').count(), { timeout: 5000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#live').textContent(), { timeout: 5000 }).toBe('live');

    const downAt = Date.now();
    await primary.down();
    await expect.poll(() => primaryRow.locator('[data-field="circuit"]').textContent(), { timeout: 5000 }).toBe('open');
    await expect.poll(() => page.locator('#feed li[data-type="failover"]').count(), { timeout: 5000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#feed li[data-type="circuit"]').count(), { timeout: 5000 }).toBeGreaterThan(0);
    expect(Date.now() - downAt).toBeLessThan(6000);
    await expect.poll(() => page.locator('#routes tr[data-route="chat"] [data-field="status"]').textContent(), { timeout: 5000 }).toBe('degraded');
    await expect.poll(() => page.locator('#incidents li').count(), { timeout: 5000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#requests tbody tr').first().locator('.tag').textContent(), { timeout: 5000 }).toBe('failover');

    const text = await page.locator('body').textContent();
    expect(text).not.toContain('sk-primary-0001');
    expect(text).not.toContain('sk-backup-0002');
    if (screenshotPath) {
      mkdirSync(dirname(screenshotPath), { recursive: true });
      await page.waitForTimeout(2500);
      await page.screenshot({ path: screenshotPath, fullPage: true });
    }
    expect(problems).toEqual([]);
  });

  it('shows traffic stacked by target with the failover, the incident and the circuit opening marked, over ranges from the request log, and a request`s attempts on a click', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'detour-dashboard-'));
    cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
    const { gateway, primary } = await gatewayWithTraffic({ log: { enabled: true, path: join(folder, 'requests.sqlite') } });
    // A request refused before any upstream: its reason must show.
    await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    const { page, problems } = await openPage(`${gateway.url}/dashboard`);
    const chart = page.locator('#traffic-chart');
    const primaryBars = chart.locator('rect.bar[data-target="primary/gpt-4o-mini"]');
    await expect.poll(() => primaryBars.count(), { timeout: 8000 }).toBeGreaterThan(0).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; page problems: ${problems.join(' | ')}; traffic: ${await page.locator('#traffic-error').textContent()}`);
    });
    await primary.down();
    await expect.poll(() => page.locator('#targets tr[data-target="primary/gpt-4o-mini"] [data-field="state"]').textContent(), { timeout: 8000 }).toBe('failing');
    await expect.poll(() => chart.locator('rect.bar[data-target="backup/gpt-4o-mini"]').count(), { timeout: 8000 }).toBeGreaterThan(0);
    await expect.poll(() => chart.locator('line.circuit-mark').count(), { timeout: 8000 }).toBeGreaterThan(0);
    await expect.poll(() => chart.locator('rect.incident-mark').count(), { timeout: 8000 }).toBeGreaterThan(0);
    // The health column can no longer say "healthy" beside an open circuit: one state per target.
    expect(await page.locator('#targets tr[data-target="primary/gpt-4o-mini"] [data-field="circuit"]').textContent()).toBe('open');
    expect(await page.locator('#targets tr[data-target="primary/gpt-4o-mini"] [data-field="reason"]').textContent()).toMatch(/^circuit open/);

    // The bars are the JSON behind them: per target, the served counts add up.
    const check = async (range: string): Promise<void> => {
      await expect.poll(() => chart.getAttribute('data-range'), { timeout: 8000 }).toBe(range);
      const drawn = await chart.locator('g.bucket').evaluateAll((groups) => groups.map((group) => [Number(group.getAttribute('data-t')), group.getAttribute('data-served') ?? '', Number(group.getAttribute('data-failed'))] as const));
      const json = (await page.evaluate(async (wanted) => (await fetch(`/admin/api/traffic?range=${wanted}`)).json(), range)) as { targets: string[]; step_ms: number; buckets: Array<{ t: number; served: number[]; failed: number }> };
      const byTime = new Map(json.buckets.map((bucket) => [bucket.t, bucket]));
      let compared = 0;
      for (const [t, served, failed] of drawn) {
        const bucket = byTime.get(t);
        // The newest bucket may have grown between the drawing and this fetch; every closed one must match.
        if (!bucket || t === json.buckets.at(-1)?.t) continue;
        expect(served).toBe(bucket.served.join(','));
        expect(failed).toBe(bucket.failed);
        compared++;
      }
      expect(compared + 1).toBeGreaterThanOrEqual(drawn.length > 1 ? 1 : 0);
      expect(json.targets.slice(0, 2)).toEqual(['primary/gpt-4o-mini', 'backup/gpt-4o-mini']);
    };
    await check('5m');
    for (const range of ['1h', '24h', '7d']) {
      await page.locator(`#ranges button[data-range="${range}"]`).click();
      await check(range);
      expect(await chart.locator('rect.bar[data-target="backup/gpt-4o-mini"]').count()).toBeGreaterThan(0);
    }
    // The last time label is inside the chart, not clipped by its edge.
    const box = await chart.boundingBox();
    const last = await chart.locator('text.axis-time').last().boundingBox();
    expect((last?.x ?? Infinity) + (last?.width ?? 0)).toBeLessThanOrEqual((box?.x ?? 0) + (box?.width ?? 0) + 0.5);

    // A click on a failed-over request shows its attempts, errors and timings.
    const failover = page.locator('#requests tbody tr[data-request]').filter({ has: page.locator('.tag') }).first();
    await expect.poll(() => failover.count(), { timeout: 8000 }).toBeGreaterThan(0);
    const id = await failover.getAttribute('data-request');
    await failover.click();
    const detail = page.locator('#request-detail');
    await expect.poll(() => detail.isVisible()).toBe(true);
    const recent = (await page.evaluate(async () => (await fetch('/admin/api/recent?limit=50')).json())) as { data: Array<{ id: string; attempts: Array<{ error_code: string | null }>; status: number }> };
    const shown = recent.data.find((request) => request.id === id);
    expect(shown).toBeDefined();
    expect(await detail.locator('#attempts tbody tr').count()).toBe(shown?.attempts.length);
    expect(await detail.locator('#attempts tbody tr.alert').count()).toBe(shown?.attempts.filter((attempt) => attempt.error_code !== null).length);
    expect(await detail.locator('#attempts').textContent()).toContain('UPSTREAM_CONNECT_FAILED');

    // The refused request shows why it was refused.
    const rejected = page.locator('#requests tbody tr[data-request]').filter({ hasText: '(rejected)' }).first();
    if ((await rejected.count()) > 0) {
      await rejected.click();
      await expect.poll(() => detail.locator('[data-field="reason"]').textContent()).toMatch(/^INVALID_JSON: .*refused before any upstream was called — The request body is not valid JSON\./);
      expect(await rejected.locator('[data-field="error-code"]').textContent()).toBe('INVALID_JSON');
      expect(await detail.locator('[data-field="no-attempts"]').count()).toBe(1);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('serves a public status page that turns degraded during the outage', async () => {
    const { gateway, primary } = await gatewayWithTraffic();
    const { page, problems } = await openPage(`${gateway.url}/status`);
    await expect.poll(() => page.locator('#overall').getAttribute('data-status'), { timeout: 5000 }).toBe('healthy');
    await expect.poll(() => page.locator('#routes li[data-name="chat"]').getAttribute('data-status')).toBe('healthy');
    await primary.down();
    await expect.poll(async () => {
      await page.reload();
      return page.locator('#providers li[data-name="primary"]').getAttribute('data-status');
    }, { timeout: 8000 }).toBe('down');
    expect(await page.locator('#overall').getAttribute('data-status')).toBe('degraded');
    expect(await page.locator('body').textContent()).not.toContain('gpt-4o-mini');
    // 90 history bars per component, today's with data; the uptime shown is the JSON's, with the period it covers.
    const json = (await page.evaluate(async () => (await fetch('/status.json')).json())) as { providers: Array<{ name: string; uptime_detail: Record<'24h', { uptime: number | null; label: string }>; history: Array<{ date: string; uptime: number | null }> }> };
    const row = page.locator('#providers li[data-name="primary"]');
    expect(await row.locator('.bar').count()).toBe(90);
    const today = json.providers.find((provider) => provider.name === 'primary')?.history.at(-1);
    expect(await row.locator('.bar').last().getAttribute('data-date')).toBe(today?.date);
    // Once a second of the day has been observed (the first sample only starts the clock), today's bar has data.
    await expect.poll(async () => {
      await page.reload();
      return page.locator('#providers li[data-name="primary"] .bar').last().getAttribute('class');
    }, { timeout: 10_000 }).not.toContain('none');
    const uptimeText = await row.locator('.uptime').textContent();
    expect(uptimeText).toMatch(/^\d+(\.\d\d)? % · last \d+ min$/);
    expect(uptimeText).toContain(json.providers.find((provider) => provider.name === 'primary')?.uptime_detail['24h'].label);
    expect(problems).toEqual([]);
  }, 60_000);
});
