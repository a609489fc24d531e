import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI) throw new Error(`${chromiumPath} is missing, and CI is set: .ci/run must install Debian's chromium`);

const cleanup = new Cleanup();
let browser: Browser | undefined;
beforeAll(async () => {
  if (!hasChromium) return;
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => cleanup.run());

/** A page on another origin (another port) that tries to spend the gateway's keys as an attacker's page would. */
async function attackerSite(gatewayUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const body = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'spend' }] });
  const html = `<!doctype html><html><body>
<form id="f" method="post" action="${gatewayUrl}/v1/chat/completions" enctype="text/plain" target="sink"><input name='${body.slice(0, -1)}' value='"}'></form>
<iframe name="sink"></iframe>
<script>
window.results = [];
fetch('${gatewayUrl}/v1/chat/completions', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(body)} }).then(() => results.push('text'), () => results.push('text-failed'));
fetch('${gatewayUrl}/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body)} }).then(() => results.push('json'), () => results.push('json-blocked'));
fetch('${gatewayUrl}/admin/api/requests').then((r) => r.text()).then(() => results.push('read'), () => results.push('read-blocked'));
document.getElementById('f').submit();
</script></body></html>`;
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://localhost:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.skipIf(!hasChromium)(`a page on another origin, in Chromium${hasChromium ? '' : ' — skipped: /usr/bin/chromium is missing (apt install chromium)'}`, () => {
  it('cannot make an upstream call with a form, a text/plain fetch or a JSON fetch, nor read the admin API', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway({ providers: { primary: openAiProvider(sim) }, models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } } }));
    const site = cleanup.add(await attackerSite(gateway.url));
    const context = await (browser as Browser).newContext();
    cleanup.add({ close: () => context.close() });
    const page = await context.newPage();
    await page.goto(site.url);
    await page.waitForFunction(() => (globalThis as unknown as { results: string[] }).results.length >= 3, undefined, { timeout: 10_000 });
    await page.waitForTimeout(300);
    const results = await page.evaluate(() => (globalThis as unknown as { results: string[] }).results);
    expect(results).toContain('json-blocked');
    expect(results).toContain('read-blocked');
    expect(sim.stats.requests).toBe(0);
  });
});
