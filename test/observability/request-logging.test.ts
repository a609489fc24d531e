import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/events.js';
import { createLogger, jsonLine, jsonLineSink } from '../../src/observability/logger.js';
import { logRequests } from '../../src/observability/request-logging.js';
import { redactSecrets } from '../../src/providers/shared/redact.js';
import { capturingLogger, failedAttempt } from './fixtures.js';

describe('request logs', () => {
  it('writes one info line per request and attempt details at debug, each with the request id and no key', async () => {
    const events = new EventBus();
    const { logger, lines } = capturingLogger();
    logRequests(events, logger, (text) => redactSecrets(text, ['my-upstream-key-123']));
    const record = failedAttempt('primary/gpt-4o-mini', 'UPSTREAM_AUTH_FAILED', { status: 401, kind: 'failover' });
    events.emit('attempt.failed', { requestId: 'req_1', route: 'chat', record, message: 'Incorrect API key provided: my-upstream-key-123' });
    events.emit('failover.performed', { requestId: 'req_1', route: 'chat', from: 'primary/gpt-4o-mini', to: 'backup/gpt-4o-mini', code: 'UPSTREAM_AUTH_FAILED' });
    events.emit('attempt.succeeded', { requestId: 'req_1', route: 'chat', record: { ...record, target: 'backup/gpt-4o-mini', code: undefined, kind: undefined, status: 200 } });
    events.emit('request.finished', {
      requestId: 'req_1',
      route: 'chat',
      format: 'openai',
      stream: false,
      status: 200,
      target: 'backup/gpt-4o-mini',
      attempts: [record],
      isFailover: true,
      isDegraded: false,
      startedAt: 0,
      latencyMs: 12,
      usage: () => undefined,
      bodies: () => ({}),
    });
    // The info line is written on the next turn, off the request's own path.
    expect(lines.map((line) => line.msg)).not.toContain('request finished');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [20, 'attempt failed'],
      [20, 'failover'],
      [20, 'attempt succeeded'],
      [30, 'request finished'],
    ]);
    expect(lines.every((line) => line.requestId === 'req_1')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('my-upstream-key-123');
  });
});

describe('request lines written whole', () => {
  it('are the line pino itself writes for the same fields, byte for byte but the time', () => {
    let written = '';
    const destination = { write: (text: string) => void (written += text) };
    const logger = pino({ level: 'info', base: undefined }, destination);
    const fields = { requestId: 'req_1', route: 'chat "quoted"\n', status: 502, target: undefined, latencyMs: 12.345, failover: true, errorMessage: 'bad \u2028 \\ answer', ttftMs: Number.NaN };
    logger.info(fields, 'request finished');
    const ours = jsonLine(30, fields, 'request finished');
    const withoutTime = (line: string): string => line.replace(/"time":\d+/, '"time":0');
    expect(withoutTime(ours)).toBe(withoutTime(written));
    expect(ours.endsWith('}\n')).toBe(true);
  });

  it('are only written whole for a logger Detour made; any other gets objects', () => {
    expect(jsonLineSink(pino({ level: 'info' }, { write: () => undefined }))).toBeUndefined();
    expect(jsonLineSink(createLogger({ level: 'info' }))).toBeTypeOf('function');
  });
});
