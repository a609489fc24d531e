import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI) throw new Error(`${chromiumPath} is missing, and CI is set: .ci/run must install Debian's chromium`);

const cleanup = new Cleanup();
let browser: Browser | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'] });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => cleanup.run());

describe.skipIf(!hasChromium)('regions in the dashboard and on the status page (skipped without /usr/bin/chromium)', () => {
  it('groups targets under their region with its state, and lists regions with their providers on /status', async () => {
    const [usA, usB, eu] = await Promise.all([startSim(), startSim(), startSim()]);
    for (const sim of [usA, usB, eu]) cleanup.add(sim as Simulator);
    const healthCheck = { interval_ms: 200, unhealthy_interval_ms: 100, timeout_ms: 1000, unhealthy_threshold: 1 };
    const gateway = cleanup.add(
      await startGateway({
        server: { region: 'us-east' },
        providers: {
          'us-a': { ...openAiProvider(usA as Simulator), region: 'us-east', health_check: healthCheck },
          'us-b': { ...openAiProvider(usB as Simulator), region: 'us-east', health_check: healthCheck },
          eu: { ...openAiProvider(eu as Simulator), region: 'eu-west' },
        },
        models: {
          chat: {
            strategy: 'nearest',
            targets: [
              { provider: 'us-a', model: 'gpt-4o-mini' },
              { provider: 'us-b', model: 'gpt-4o-mini' },
              { provider: 'eu', model: 'gpt-4o-mini' },
            ],
          },
        },
      }),
    );
    await Promise.all([(usA as Simulator).down(), (usB as Simulator).down()]);
    const context = await (browser as Browser).newContext();
    cleanup.add({ close: () => context.close() });
    const problems: string[] = [];
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });

    await page.goto(`${gateway.url}/dashboard`);
    const usHeading = page.locator('#targets tr.region-row[data-region="us-east"]');
    await expect.poll(() => usHeading.locator('[data-field="region-status"]').textContent(), { timeout: 8000 }).toBe('down');
    await expect.poll(() => page.locator('#targets tr.region-row[data-region="eu-west"] [data-field="region-status"]').textContent(), { timeout: 8000 }).toBe('healthy');
    expect(await usHeading.textContent()).toContain('us-a, us-b');
    // Each region's targets come right under its heading.
    const order = await page.locator('#targets tbody tr').evaluateAll((rows: Array<{ getAttribute(name: string): string | null }>) => rows.map((row) => row.getAttribute('data-region') ?? row.getAttribute('data-target')));
    expect(order).toEqual(['us-east', 'us-a/gpt-4o-mini', 'us-b/gpt-4o-mini', 'eu-west', 'eu/gpt-4o-mini']);

    await page.goto(`${gateway.url}/status`);
    const usRegion = page.locator('#regions li[data-region="us-east"]');
    await expect.poll(() => usRegion.getAttribute('data-status'), { timeout: 8000 }).toBe('down');
    expect(await page.locator('#regions-section').isVisible()).toBe(true);
    expect(await usRegion.locator('.providers').textContent()).toBe('us-a, us-b');
    expect(await page.locator('#regions li[data-region="eu-west"]').getAttribute('data-status')).toBe('healthy');
    expect(problems).toEqual([]);
  });
});
