import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

type Event = { type: string; sequence_number: number; item_id?: string; item?: { id?: string } };

/** What a strict client checks of a Responses stream: one start, numbers in order without a repeat, every event's item announced first. */
function expectWellFormed(events: readonly Event[]): void {
  expect(events.filter((event) => event.type === 'response.created')).toHaveLength(1);
  expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
  const announced = new Set<string>();
  for (const event of events) {
    if (event.type === 'response.output_item.added' && event.item?.id) announced.add(event.item.id);
    if (event.item_id !== undefined) expect(announced).toContain(event.item_id);
  }
}

/** A route of Responses API upstreams (passed through), the first of which cuts its stream after a few events. */
async function passThroughRoute(targets: number) {
  const broken = cleanup.add(await startSim({ chunkDelayMs: 2, plan: { faults: [{ reset_after_chunks: 4 }] } }));
  const healthy = cleanup.add(await startSim());
  const providers = { broken: { ...openAiProvider(broken), api: 'responses' }, healthy: { ...openAiProvider(healthy), api: 'responses' } };
  const route = { targets: [{ provider: 'broken', model: 'gpt-5' }, { provider: 'healthy', model: 'gpt-5' }].slice(0, targets), retry: { attempts: 1 } };
  const gateway = cleanup.add(await startGateway({ providers, models: { chat: route } }));
  return openAiClient(gateway.url);
}

describe('a passed-through Responses stream that breaks', () => {
  it('continued on another target: the sequence numbers and the message`s item id go on from where the client stands', async () => {
    const client = await passThroughRoute(2);
    const stream = client.responses.stream({ model: 'chat', input: 'Hello' });
    const events: Event[] = [];
    for await (const event of stream) events.push(event as Event);
    expectWellFormed(events);
    expect(events.at(-1)?.type).toBe('response.completed');
    expect((await stream.finalResponse()).output_text.length).toBeGreaterThan(10);
  });

  it('that cannot be continued: the error event and response.failed follow the client`s events, without a second start', async () => {
    const client = await passThroughRoute(1);
    const response = await client.responses.create({ model: 'chat', input: 'Hello', stream: true });
    const events: Event[] = [];
    for await (const event of response) events.push(event as Event);
    expect(events.slice(-2).map((event) => event.type)).toEqual(['error', 'response.failed']);
    expect(events.filter((event) => event.type === 'response.output_text.delta').length).toBeGreaterThan(0);
    expectWellFormed(events);
  });
});
