import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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

async function gatewayWithTraffic(): Promise<{ gateway: RunningGateway; primary: Simulator; stop(): Promise<void> }> {
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
    expect(problems).toEqual([]);
  });
});
