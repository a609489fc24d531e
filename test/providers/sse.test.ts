import { describe, expect, it } from 'vitest';
import { SseEventTooLarge, SseParser } from '../../src/providers/shared/sse.js';
import { redactSecrets } from '../../src/providers/shared/redact.js';
import { parseProtoDuration, parseRetryAfter } from '../../src/core/retry-after.js';

describe('SseParser', () => {
  it('reassembles events split anywhere across network chunks', () => {
    const text = 'event: message_start\ndata: {"a":1}\n\ndata: {"b":\ndata: 2}\n\n: comment\n\ndata: [DONE]\n\n';
    for (let split = 1; split < text.length; split++) {
      const parser = new SseParser();
      const events = [...parser.feed(text.slice(0, split)), ...parser.feed(text.slice(split)), ...parser.flush()];
      expect(events.map((event) => [event.event, event.data])).toEqual([
        ['message_start', '{"a":1}'],
        [undefined, '{"b":\n2}'],
        [undefined, '[DONE]'],
      ]);
    }
  });

  it('accepts CRLF and CR line endings and bytes split inside a UTF-8 character', () => {
    const parser = new SseParser();
    const bytes = Buffer.from('data: {"t":"18°C"}\r\n\r\ndata: x\r\r', 'utf8');
    const cut = bytes.indexOf(0xb0); // inside the two-byte "°"
    const events = [...parser.feed(bytes.subarray(0, cut)), ...parser.feed(bytes.subarray(cut))];
    expect(events.map((event) => event.data)).toEqual(['{"t":"18°C"}', 'x']);
  });

  it('reassembles CRLF streams split at every pair of places, a line end or blank line straddling chunks included', () => {
    const text = 'event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n\r\ndata: 3\r\r';
    for (let first = 1; first < text.length; first++) {
      for (let second = first; second < text.length; second++) {
        const parser = new SseParser();
        const events = [...parser.feed(text.slice(0, first)), ...parser.feed(text.slice(first, second)), ...parser.feed(text.slice(second)), ...parser.flush()];
        expect(events.map((event) => [event.event, event.data])).toEqual([
          ['a', '1'],
          [undefined, '2'],
          [undefined, '3'],
        ]);
      }
    }
  });

  it('refuses an event that grows past its cap, with or without newlines, without keeping it', () => {
    const parser = new SseParser(1000);
    expect(() => {
      for (let index = 0; index < 20; index++) parser.feed('x'.repeat(100));
    }).toThrow(SseEventTooLarge);
    const lines = new SseParser(1000);
    expect(() => {
      for (let index = 0; index < 20; index++) lines.feed(`data: ${'y'.repeat(90)}\n`);
    }).toThrow(SseEventTooLarge);
    // Events under the cap pass, however many of them.
    const many = new SseParser(1000);
    let count = 0;
    for (let index = 0; index < 500; index++) count += many.feed(`data: ${'z'.repeat(900)}\n\n`).length;
    expect(count).toBe(500);
  });

  it('hands over a last event that was not followed by a blank line when the stream closes', () => {
    const parser = new SseParser();
    expect(parser.feed('data: {"done":true}')).toEqual([]);
    expect(parser.flush().map((event) => event.data)).toEqual(['{"done":true}']);
  });
});

describe('redactSecrets', () => {
  it.each([
    ['Incorrect API key provided: sk-proj-abcdefgh12345678.', 'Incorrect API key provided: [redacted].'],
    ['key AIzaSyA1234567890abcdefghijklmn is invalid', 'key [redacted] is invalid'],
    ['bad key my-custom-key-value here', 'bad key [redacted] here'],
    ['nothing secret here', 'nothing secret here'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input, ['my-custom-key-value'])).toBe(expected);
  });
});

describe('retry-after parsing', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    [{ 'retry-after-ms': '1500.5' }, 1501],
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0.25' }, 250],
    [{ 'retry-after-ms': '100', 'retry-after': '9' }, 100],
    [{ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, 5000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('%j → %s', (headers, expected) => {
    expect(parseRetryAfter(headers, now)).toBe(expected);
  });

  it.each([
    ['47s', 47_000],
    ['45.837906927s', 45_838],
    ['1m', undefined],
    [12, undefined],
  ])('protobuf duration %s → %s', (value, expected) => {
    expect(parseProtoDuration(value)).toBe(expected);
  });
});

describe('watching a passed-through OpenAI stream', () => {
  it('recognises usage and finish reasons whatever the JSON spacing', async () => {
    const { inspectOpenAiEvent } = await import('../../src/providers/openai/stream.js');
    const target = { id: 'p/m', apiKey: 'k' } as Parameters<typeof inspectOpenAiEvent>[2];
    const spaced = (data: string) => ({ event: undefined, data, raw: `data: ${data}` });
    const finish = inspectOpenAiEvent(spaced('{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}'), false, target);
    expect(finish).toMatchObject({ finished: true, forward: true });
    const usage = inspectOpenAiEvent(spaced('{"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}'), false, target);
    expect(usage).toMatchObject({ usage: { total_tokens: 8 }, forward: false });
  });

  it('takes a null finish reason or usage for none, and a key quoted inside the text for text', async () => {
    const { inspectOpenAiEvent } = await import('../../src/providers/openai/stream.js');
    const target = { id: 'p/m', apiKey: 'k' } as Parameters<typeof inspectOpenAiEvent>[2];
    const event = (data: string) => ({ event: undefined, data, raw: `data: ${data}` });
    expect(inspectOpenAiEvent(event('{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}'), false, target)).toEqual({ finished: false, forward: true });
    const quoted = JSON.stringify({ choices: [{ index: 0, delta: { content: '"finish_reason": "stop", "usage": {' }, finish_reason: null }] });
    expect(inspectOpenAiEvent(event(quoted), false, target)).toEqual({ finished: false, forward: true });
    // Tabs and line breaks are JSON whitespace too.
    expect(inspectOpenAiEvent(event('{"choices":[{"index":0,"delta":{},"finish_reason"\t:\n"length"}]}'), false, target)).toMatchObject({ finished: true });
  });
});
