import { describe, expect, it } from 'vitest';
import type { Target } from '../../src/core/settings.js';
import { PassThroughProcessor, TranslatingProcessor, maxHeldToolCallChars, type StreamPiece } from '../../src/engine/stream-processor.js';
import { partialAnswer } from '../../src/engine/stream-continuation.js';
import { StreamWatch } from '../../src/engine/stream-watch.js';
import { adapters } from '../../src/providers/registry.js';
import type { ProviderAdapter, SseEvent } from '../../src/providers/types.js';
import { anthropicTarget } from '../helpers/anthropic.js';

/**
 * A stream that may be continued holds a tool call back until the answer is whole, so that a
 * break inside its arguments has sent the client nothing of it (see `maxHeldToolCallChars`).
 */
const openAiTarget = { ...anthropicTarget(), id: 'openai/gpt-4o-mini', model: 'gpt-4o-mini', provider: { ...anthropicTarget().provider, name: 'openai', type: 'openai' } } as Target;

function openAiEvent(delta: Record<string, unknown>, finish: string | null = null): SseEvent {
  const data = JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] });
  return { event: undefined, data, raw: `data: ${data}` };
}

function anthropicEvent(payload: { type: string } & Record<string, unknown>): SseEvent {
  const data = JSON.stringify(payload);
  return { event: payload.type, data, raw: `event: ${payload.type}\ndata: ${data}` };
}

const text = openAiEvent({ role: 'assistant', content: 'Let me look. ' });
const toolStart = openAiEvent({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] });
const toolArgs = (piece: string) => openAiEvent({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
const finish = openAiEvent({}, 'tool_calls');
const done: SseEvent = { event: undefined, data: '[DONE]', raw: 'data: [DONE]' };

function written(pieces: StreamPiece[]): string {
  return pieces.map((piece) => piece.text).join('');
}

describe('a passed-through OpenAI stream that may be continued', () => {
  it('sends text at once and the tool call only with the finish reason, in order', () => {
    const processor = new PassThroughProcessor((adapters.openai as ProviderAdapter), openAiTarget, false, true);
    const first = processor.process([text]);
    expect(first.text).toContain('Let me look.');
    expect(processor.process([toolStart, toolArgs('{"order')]).text).toBe('');
    expect(processor.isHolding).toBe(true);
    expect(processor.releasedEvents).toBe(1);
    const last = processor.process([toolArgs('_id":"1"}'), finish, done]);
    expect(last.text).toBe([toolStart, toolArgs('{"order'), toolArgs('_id":"1"}'), finish, done].map((event) => `${event.raw}\n\n`).join(''));
    expect(processor.isHolding).toBe(false);
    expect(processor.releasedEvents).toBe(6);
  });

  it('broken inside the arguments: the client`s part is the text alone, with no tool call, so it can be continued', () => {
    const processor = new PassThroughProcessor((adapters.openai as ProviderAdapter), openAiTarget, false, true);
    const watch = new StreamWatch((adapters.openai as ProviderAdapter), openAiTarget, { isKeeping: true });
    for (const event of [text, toolStart, toolArgs('{"order')]) {
      processor.process([event]);
      watch.kept(event);
    }
    expect(() => processor.end()).toThrow(/ended its stream before the answer was complete/);
    expect(partialAnswer(watch, processor.releasedEvents)).toMatchObject({ text: 'Let me look. ', hasToolCall: false });
    // Without the hold, the same stream had sent a tool call: it could not be continued.
    expect(partialAnswer(watch)).toMatchObject({ hasToolCall: true });
  });

  it('lets a tool call go once it is held past its bound; from then on nothing is held and a break is not continued', () => {
    const processor = new PassThroughProcessor((adapters.openai as ProviderAdapter), openAiTarget, false, true);
    const watch = new StreamWatch((adapters.openai as ProviderAdapter), openAiTarget, { isKeeping: true });
    const pieces: StreamPiece[] = [];
    for (const event of [toolStart, toolArgs('x'.repeat(maxHeldToolCallChars)), toolArgs('y')]) {
      pieces.push(processor.process([event]));
      watch.kept(event);
    }
    expect(written(pieces)).toContain('"x');
    expect(written(pieces)).toContain('"y"');
    expect(processor.isHolding).toBe(false);
    expect(partialAnswer(watch, processor.releasedEvents)).toMatchObject({ hasToolCall: true });
  });

  it('holds nothing when the route does not continue streams', () => {
    const processor = new PassThroughProcessor((adapters.openai as ProviderAdapter), openAiTarget, false, false);
    expect(processor.process([toolStart]).text).toBe(`${toolStart.raw}\n\n`);
    expect(processor.releasedEvents).toBeUndefined();
  });

  it('takes "tool_calls": null for no tool call', () => {
    const processor = new PassThroughProcessor((adapters.openai as ProviderAdapter), openAiTarget, false, true);
    const event = openAiEvent({ content: 'Hi', tool_calls: null });
    expect(processor.process([event]).text).toBe(`${event.raw}\n\n`);
  });
});

describe('a passed-through Anthropic stream that may be continued', () => {
  const target = anthropicTarget();
  const events = [
    anthropicEvent({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], usage: { input_tokens: 5, output_tokens: 1 } } }),
    anthropicEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Looking.' } }),
    anthropicEvent({ type: 'content_block_stop', index: 0 }),
    anthropicEvent({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} } }),
    anthropicEvent({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"order_id":' } }),
    anthropicEvent({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"1"}' } }),
    anthropicEvent({ type: 'content_block_stop', index: 1 }),
    anthropicEvent({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }),
    anthropicEvent({ type: 'message_stop' }),
  ];

  it('holds the tool_use block from its start to message_delta', () => {
    const processor = new PassThroughProcessor((adapters.anthropic as ProviderAdapter), target, false, true);
    const out = events.map((event) => processor.process([event]).text);
    expect(out.slice(0, 4).every((piece) => piece !== '')).toBe(true);
    expect(out.slice(4, 8)).toEqual(['', '', '', '']);
    expect(out[8]).toBe(events.slice(4, 9).map((event) => `${event.raw}\n\n`).join(''));
    expect(out[9]).toBe(`${events[9]?.raw}\n\n`);
  });
});

describe('a translated stream that may be continued', () => {
  it('holds the tool call`s canonical chunks to the finish reason, and releases them with it', () => {
    const processor = new TranslatingProcessor((adapters.openai as ProviderAdapter).createStreamDecoder(openAiTarget), openAiTarget, true);
    expect(processor.process([text]).chunks).toHaveLength(1);
    expect(processor.process([toolStart, toolArgs('{}')]).chunks).toHaveLength(0);
    expect(processor.isHolding).toBe(true);
    expect(processor.releasedEvents).toBe(1);
    const released = processor.process([finish]).chunks;
    expect(released.map((chunk) => chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? chunk.choices[0]?.finish_reason)).toEqual(['', '{}', 'tool_calls']);
    expect(processor.releasedEvents).toBe(4);
  });
});
