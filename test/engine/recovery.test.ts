import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { RecoveryProbedEvent, RequestFinishedEvent } from '../../src/core/events.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] });

/** Lets real I/O (the simulators, the HTTP hops) run between two moves of the gateway's clock. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 15));

/**
 * The gateway runs on a clock the test moves by hand, 100 ms a step, so that its probe cadence,
 * waits and deadlines are measured in its own time, whatever the machine's load.
 */
async function downRoute(route: Record<string, unknown> = {}) {
  const primary = cleanup.add(await startSim());
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  const timers = new ManualTimers(new ManualClock(Date.now()));
  const gateway = cleanup.add(
    await startGateway(
      {
        breaker: { failure_threshold: 2, minimum_requests: 50 },
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 }, ...route } },
      },
      { clock: timers.clock, timers },
    ),
  );
  const finished: Array<RequestFinishedEvent & { at: number }> = [];
  gateway.engine.events.on('request.finished', (event) => finished.push({ ...event, at: timers.clock.now() }));
  const probes: Array<RecoveryProbedEvent & { at: number }> = [];
  gateway.engine.events.on('recovery.probed', (event) => probes.push({ ...event, at: timers.clock.now() }));
  const send = () => fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ask });
  const step = async (ms: number): Promise<void> => {
    for (let moved = 0; moved < ms; moved += 100) {
      timers.advance(100);
      await settle();
    }
  };
  return { primary, backup, gateway, timers, finished, probes, send, step };
}

describe('recovery when every target is down', () => {
  it('holds requests through a total outage and serves them within about one probe interval of the upstream’s return', async () => {
    const { primary, backup, timers, finished, probes, send, step } = await downRoute();
    await primary.down();
    await backup.down();
    // Requests keep coming while everything is down: none is refused at once.
    const answers: Array<Promise<Response>> = [];
    for (let i = 0; i < 6; i++) {
      answers.push(send());
      await step(500);
    }
    expect(finished.filter((event) => event.status >= 400)).toEqual([]);
    const downProbes = probes.length;
    // One probe per target per second while down, whatever the 30 s cooldown.
    expect(downProbes).toBeGreaterThanOrEqual(4);
    expect(downProbes).toBeLessThanOrEqual(8);
    expect(probes.every((probe) => !probe.isSuccess)).toBe(true);

    await primary.up();
    await backup.up();
    const backAt = timers.clock.now();
    await step(2_000);
    const served = finished.filter((event) => event.status === 200);
    expect(served).toHaveLength(6);
    const firstSuccessAt = Math.min(...served.map((event) => event.at));
    expect(firstSuccessAt - backAt).toBeLessThanOrEqual(1_100);
    for (const response of await Promise.all(answers)) expect(response.status).toBe(200);
    // The probes cost almost nothing: the upstreams saw the probes and the real requests, no more.
    expect(primary.stats.requests + backup.stats.requests).toBeLessThanOrEqual(6 + 2);
  });

  it('a request stops waiting at wait_for_recovery_ms and says when to come back', async () => {
    const { primary, backup, finished, send, step } = await downRoute({ wait_for_recovery_ms: 3_000 });
    await primary.down();
    await backup.down();
    const answer = send();
    await step(2_900);
    expect(finished).toEqual([]);
    await step(500);
    const response = await answer;
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(finished.map((event) => event.status)).toEqual([503]);
  });

  it('cooldowns double only while another target serves', async () => {
    const { primary, gateway, send, step } = await downRoute();
    await primary.down();
    const circuit = () => gateway.engine.targets().find((target) => target.id === 'primary/m');
    for (let i = 0; i < 2; i++) {
      expect((await send()).status).toBe(200);
    }
    expect(circuit()?.circuit).toBe('open');
    // The backup serves: after the 30 s cooldown one probe fails and the cooldown doubles.
    await step(30_100);
    expect((await send()).status).toBe(200);
    await settle();
    expect(circuit()).toMatchObject({ circuit: 'open' });
    const view = gateway.engine.resilience.store.breakerView('primary/m');
    expect(view.status === 'open' && view.cooldownMs).toBe(60_000);
  });
});
