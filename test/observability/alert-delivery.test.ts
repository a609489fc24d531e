import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { AlertDelivery } from '../../src/observability/alerts/alert-delivery.js';
import type { AlertMessage, Incident } from '../../src/observability/alerts/incident.js';
import { DetourMetrics } from '../../src/observability/metrics/metrics.js';
import { defaultAlertSettings, type AlertSinkSettings } from '../../src/observability/settings.js';
import { capturingLogger } from './fixtures.js';
import { WebhookReceiver } from './webhook-receiver.js';

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function receiver(script: number[] = []): Promise<WebhookReceiver> {
  const started = await new WebhookReceiver(script).listen();
  receivers.push(started);
  return started;
}

const startedAt = Date.UTC(2025, 0, 1, 12, 3, 4);

function message(state: AlertMessage['state'], key = 'target_down:primary/gpt-4o-mini', at = startedAt): AlertMessage {
  const incident: Incident = {
    key,
    type: 'target_down',
    severity: 'critical',
    title: 'primary/gpt-4o-mini is failing',
    target: 'primary/gpt-4o-mini',
    servingTargets: { chat: 'backup/gpt-4o-mini' },
    error: 'UPSTREAM_CONNECT_FAILED: could not connect to primary/gpt-4o-mini (ECONNREFUSED)',
    startedAt,
    lastSeenAt: startedAt,
    notes: [],
    publicSummary: 'Provider primary is having problems.',
    affects: { routes: ['chat'], providers: ['primary'] },
  };
  return { state, incident, at };
}

function delivery(sinks: AlertSinkSettings[], overrides: Partial<typeof defaultAlertSettings> = {}) {
  const clock = new ManualClock(startedAt);
  const metrics = new DetourMetrics({ processMetrics: false });
  const { logger, lines } = capturingLogger();
  const waits: number[] = [];
  const sender = new AlertDelivery({ ...defaultAlertSettings, sinks, ...overrides }, { clock, logger, metrics, wait: async (ms) => void waits.push(ms) });
  return { sender, clock, metrics, lines, waits };
}

describe('alert delivery', () => {
  it('posts a generic webhook as JSON with what failed, who serves, the error and since when', async () => {
    const hook = await receiver();
    const { sender } = delivery([{ type: 'webhook', name: 'ops', url: hook.url, headers: { authorization: 'Bearer hook-token' } }]);
    sender.deliver(message('firing'));
    await sender.settled();
    expect(hook.headers[0]?.authorization).toBe('Bearer hook-token');
    expect(hook.bodies[0]).toMatchObject({
      source: 'detour',
      state: 'firing',
      type: 'target_down',
      target: 'primary/gpt-4o-mini',
      serving_targets: { chat: 'backup/gpt-4o-mini' },
      error: expect.stringContaining('ECONNREFUSED'),
      started_at: '2025-01-01T12:03:04Z',
    });
  });

  it('writes Slack messages a person reads at a glance', async () => {
    const slack = await receiver();
    const { sender } = delivery([{ type: 'slack', name: 'slack', url: slack.url }]);
    sender.deliver(message('firing'));
    sender.deliver(message('resolved', undefined, startedAt + 252_000));
    await sender.settled();
    const [firing, resolved] = slack.bodies as Array<{ text: string }>;
    expect(firing?.text).toContain('`primary/gpt-4o-mini` is failing');
    expect(firing?.text).toContain('*Now serving:* route `chat` → `backup/gpt-4o-mini`');
    expect(firing?.text).toContain('*Error:* `UPSTREAM_CONNECT_FAILED');
    expect(firing?.text).toContain('*Since:* 2025-01-01T12:03:04Z');
    expect(resolved?.text).toContain('Resolved');
    expect(resolved?.text).toContain('4m 12s');
  });

  it('retries a failing webhook with growing backoff until it takes the alert', async () => {
    const hook = await receiver([500, 503, 429]);
    const { sender, waits } = delivery([{ type: 'webhook', name: 'ops', url: hook.url, headers: {} }], { deliveryBackoffMs: 100 });
    sender.deliver(message('firing'));
    await sender.settled();
    expect(hook.bodies).toHaveLength(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('gives up after its attempts, logs once, and never blocks the next alert', async () => {
    const hook = await receiver([500, 500, 500, 500]);
    const { sender, lines } = delivery([{ type: 'webhook', name: 'ops', url: hook.url, headers: {} }], { deliveryAttempts: 2 });
    sender.deliver(message('firing', 'a'));
    sender.deliver(message('firing', 'b'));
    sender.deliver(message('firing', 'c'));
    await sender.settled();
    expect(hook.bodies).toHaveLength(5);
    expect(lines.filter((line) => line.msg === 'alert could not be delivered')).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(hook.url);
  });

  it('rate-limits new incidents per sink, and sends recoveries only for incidents it announced', async () => {
    const hook = await receiver();
    const { sender, clock } = delivery([{ type: 'webhook', name: 'ops', url: hook.url, headers: {} }], { maxPerMinute: 2 });
    for (const key of ['a', 'b', 'c']) sender.deliver(message('firing', key));
    for (const key of ['a', 'b', 'c']) sender.deliver(message('resolved', key));
    clock.advance(60_000);
    sender.deliver(message('firing', 'd'));
    await sender.settled();
    expect(hook.bodies.map((body) => `${(body as { key: string }).key}:${(body as { state: string }).state}`)).toEqual(['a:firing', 'b:firing', 'a:resolved', 'b:resolved', 'd:firing']);
  });
});
