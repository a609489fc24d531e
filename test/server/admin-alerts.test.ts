import { afterEach, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { WebhookReceiver } from '../observability/webhook-receiver.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function chat(gateway: RunningGateway): Promise<{ status: number; servedBy: string | null; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] }),
  });
  await response.arrayBuffer();
  return { status: response.status, servedBy: response.headers.get('x-detour-provider'), ms: Date.now() - started };
}

async function setup(options: { hangingWebhook?: boolean } = {}) {
  const primary = cleanup.add(await startSim());
  const backup = cleanup.add(await startSim());
  const webhook = cleanup.add(await new WebhookReceiver([], options.hangingWebhook).listen());
  const slack = cleanup.add(await new WebhookReceiver().listen());
  const gateway = cleanup.add(
    await startGateway(
      {
        providers: { primary: openAiProvider(primary, 'sk-primary-0001'), backup: openAiProvider(backup, 'sk-backup-0002') },
        models: {
          chat: {
            targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }],
            retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 5 },
          },
        },
        breaker: { open_ms: 300, failure_threshold: 3 },
        alerts: {
          sinks: [
            { type: 'webhook', name: 'ops', url: webhook.url },
            { type: 'slack', name: 'slack', url: slack.url },
          ],
          resolve_after_ms: 300,
          delivery_timeout_ms: 60_000,
        },
      },
      { processMetrics: false },
    ),
  );
  return { primary, backup, webhook, slack, gateway };
}

describe('alerts from a real outage', () => {
  it('sends one alert when the primary goes down and one when it is back, however many requests fail over', async () => {
    const { primary, webhook, slack, gateway } = await setup();
    expect((await chat(gateway)).servedBy).toBe('primary');

    await primary.down();
    for (let request = 0; request < 10; request++) expect(await chat(gateway)).toMatchObject({ status: 200, servedBy: 'backup' });
    await webhook.received(1);
    expect(webhook.bodies[0]).toMatchObject({
      state: 'firing',
      type: 'target_down',
      target: 'primary/gpt-4o-mini',
      serving_targets: { chat: 'backup/gpt-4o-mini' },
      error: expect.stringContaining('UPSTREAM_CONNECT_FAILED'),
    });
    await slack.received(1);
    expect((slack.bodies[0] as { text: string }).text).toContain('`primary/gpt-4o-mini` is failing');

    await primary.up();
    const deadline = Date.now() + 10_000;
    while (webhook.bodies.length < 2 && Date.now() < deadline) {
      await chat(gateway);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(webhook.bodies.map((body) => (body as { state: string }).state)).toEqual(['firing', 'resolved']);
    await slack.received(2);
    expect((slack.bodies[1] as { text: string }).text).toContain('Resolved');
    const alerts = JSON.stringify([...webhook.bodies, ...slack.bodies]);
    expect(alerts).not.toContain('sk-primary-0001');
    expect(alerts).not.toContain('sk-backup-0002');
  });

  it('never slows a request while a webhook hangs', async () => {
    const { primary, webhook, gateway } = await setup({ hangingWebhook: true });
    await primary.down();
    for (let request = 0; request < 5; request++) await chat(gateway);
    await webhook.received(1);
    const timings = [];
    for (let request = 0; request < 5; request++) timings.push(await chat(gateway));
    expect(timings.every((timing) => timing.status === 200 && timing.ms < 1000)).toBe(true);
  });
});
