import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { EventBus } from '../../src/core/events.js';
import { IncidentDetector } from '../../src/observability/alerts/incident-detector.js';
import { IncidentManager } from '../../src/observability/alerts/incident-manager.js';
import type { AlertMessage } from '../../src/observability/alerts/incident.js';
import { plainSummary, slackPayload, webhookPayload } from '../../src/observability/alerts/alert-format.js';
import type { Topology } from '../../src/observability/topology.js';
import { attempt, outcome } from './fixtures.js';

const usA = 'us-a/m';
const usB = 'us-b/m';
const eu = 'eu/m';
const topology: Topology = {
  routes: [
    {
      name: 'chat',
      targets: [
        { id: usA, provider: 'us-a', model: 'm', region: 'us-east' },
        { id: usB, provider: 'us-b', model: 'm', region: 'us-east' },
        { id: eu, provider: 'eu', model: 'm', region: 'eu-west' },
      ],
      primary: [usA],
    },
  ],
};

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const events = new EventBus();
  const incidents = new IncidentManager(clock, 30_000);
  const messages: AlertMessage[] = [];
  incidents.onMessage((message) => messages.push(message));
  const detector = new IncidentDetector(events, { clock, topology, incidents, minFailovers: 3, redact: (text) => text });
  const open = (target: string): void => events.emit('circuit.opened', { target, reason: 'failure_count', cooldownMs: 30_000, until: clock.now() + 30_000 });
  const close = (target: string): void => {
    events.emit('circuit.closed', { target, reason: 'probe_succeeded' });
    events.emit('attempt.succeeded', { requestId: 'r', route: 'chat', record: attempt(target) });
  };
  const tick = (ms: number): void => {
    clock.advance(ms);
    incidents.tick();
  };
  return { clock, events, incidents, messages, detector, open, close, tick };
}

describe('a whole region failing is one regional incident', () => {
  it('raises region_down instead of one incident per target, says who serves, and resolves once when the region is back', () => {
    const { incidents, messages, detector, open, close, tick } = setup();
    open(usA);
    tick(200);
    open(usB);
    detector.recordOutcome(outcome({ route: 'chat', target: eu }));
    tick(2000);
    expect(incidents.incidents().map((incident) => incident.key)).toEqual(['region_down:us-east']);
    expect(messages).toHaveLength(1);
    const firing = messages[0] as AlertMessage;
    expect(firing.incident).toMatchObject({ type: 'region_down', region: 'us-east', title: 'Region us-east is failing', servingTargets: { chat: eu }, affects: { routes: ['chat'], providers: ['us-a', 'us-b'] } });
    expect(webhookPayload(firing)).toMatchObject({ type: 'region_down', region: 'us-east', serving_targets: { chat: eu } });
    expect(plainSummary(firing)).toContain('Region us-east is failing. Now route chat is served by eu/m.');

    // One target back: the region is no longer down as a whole; the other is a target incident again.
    close(usA);
    tick(1500);
    expect(incidents.incidents().map((incident) => incident.key).sort()).toEqual(['region_down:us-east', 'target_down:us-b/m']);
    close(usB);
    tick(31_000);
    expect(incidents.incidents()).toEqual([]);
    const resolved = messages.filter((message) => message.state === 'resolved');
    expect(resolved.map((message) => message.incident.key)).toContain('region_down:us-east');
    expect(slackPayload(resolved.find((message) => message.incident.key === 'region_down:us-east') as AlertMessage).text).toContain('region `us-east` has recovered');
  });

  it('one target down in a region of two is that target`s incident, not the region`s', () => {
    const { incidents, messages, open, tick } = setup();
    open(usA);
    tick(2000);
    expect(incidents.incidents().map((incident) => incident.key)).toEqual(['target_down:us-a/m']);
    expect(messages.map((message) => message.incident.type)).toEqual(['target_down']);
  });

  it('a region of a single target is that target: no regional incident', () => {
    const { incidents, open, tick } = setup();
    open(eu);
    tick(2000);
    expect(incidents.incidents().map((incident) => incident.key)).toEqual(['target_down:eu/m']);
  });
});
