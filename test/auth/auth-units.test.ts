import { describe, expect, it } from 'vitest';
import { periodBounds, toNanoUsd } from '../../src/auth/budget-period.js';
import { reserveTokens, worstCaseUsd } from '../../src/auth/cost-estimate.js';
import { parseKeyDuration } from '../../src/auth/key-duration.js';
import { generateKey, hashKey, isSameHash } from '../../src/auth/key-secret.js';
import { presentedKey } from '../../src/auth/presented-key.js';
import { bindRefusal, corsHeaders, hostName, isAllowedHost, isJsonContentType } from '../../src/auth/request-policy.js';
import { ModelCatalog } from '../../src/core/model-catalog.js';
import { addToWindow, addToWindowAt, windowTotal } from '../../src/core/sliding-window.js';
import { redactBody, redactSecrets } from '../../src/providers/shared/redact.js';

const headers = (values: Record<string, string>, query: Record<string, string> = {}) => ({ header: (name: string) => values[name], query: (name: string) => query[name] });

describe('keys', () => {
  it('makes distinct dtr_ keys and compares their HMACs in constant time', () => {
    const a = generateKey();
    expect(a).toMatch(/^dtr_[A-Za-z0-9_-]{43}$/);
    expect(generateKey()).not.toBe(a);
    expect(hashKey('secret-0123456789', a)).toHaveLength(64);
    expect(hashKey('secret-0123456789', a)).not.toBe(hashKey('other-secret-0123', a));
    expect(isSameHash(hashKey('s', a), hashKey('s', a))).toBe(true);
    expect(isSameHash(hashKey('s', a), hashKey('s', `${a}x`))).toBe(false);
    expect(isSameHash('', '')).toBe(false);
  });

  it.each([
    [{ authorization: 'Bearer dtr_abc' }, {}, 'dtr_abc'],
    [{ authorization: 'bearer  dtr_abc ' }, {}, 'dtr_abc'],
    [{ 'x-api-key': 'dtr_anthropic' }, {}, 'dtr_anthropic'],
    [{ 'x-goog-api-key': 'dtr_gemini' }, {}, 'dtr_gemini'],
    [{}, { key: 'dtr_query' }, 'dtr_query'],
    [{ authorization: 'Basic abc' }, {}, undefined],
    [{}, {}, undefined],
    [{ 'x-api-key': 'x'.repeat(600) }, {}, undefined],
  ])('reads the key from %j %j', (values, query, expected) => {
    expect(presentedKey(headers(values as Record<string, string>, query as Record<string, string>))).toBe(expected);
  });

  it.each([
    ['90d', 90 * 86_400_000],
    ['24h', 86_400_000],
    ['30m', 1_800_000],
    ['2w', 14 * 86_400_000],
    ['0', 0],
    ['10', undefined],
    ['-1d', undefined],
    ['1y', undefined],
  ])('parses the duration %s', (text, ms) => {
    expect(parseKeyDuration(text)).toBe(ms);
  });
});

describe('budgets', () => {
  const at = Date.UTC(2026, 11, 2, 15, 30); // a Wednesday
  it.each([
    ['day', Date.UTC(2026, 11, 2), Date.UTC(2026, 11, 3)],
    ['week', Date.UTC(2026, 10, 30), Date.UTC(2026, 11, 7)],
    ['month', Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)],
  ] as const)('a %s runs in UTC from its start', (period, start, end) => {
    expect(periodBounds(period, at)).toEqual({ start, end });
  });

  it('reserves the input estimate plus max_tokens in every format, at the dearest target', () => {
    const catalog = new ModelCatalog();
    expect(reserveTokens({ messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 50 }).output).toBe(50);
    expect(reserveTokens({ messages: [], max_completion_tokens: 70 }).output).toBe(70);
    expect(reserveTokens({ contents: [{ parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 30 } }).output).toBe(30);
    expect(reserveTokens({ messages: [] }).output).toBe(4096);
    const tokens = reserveTokens({ messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 1000 });
    expect(tokens.input).toBeGreaterThanOrEqual(100);
    const cheap = worstCaseUsd(tokens, ['gpt-4o-mini'], catalog);
    expect(worstCaseUsd(tokens, ['gpt-4o-mini', 'gpt-4o'], catalog)).toBeGreaterThan(cheap);
    expect(worstCaseUsd(tokens, ['unknown-model'], catalog)).toBe(0);
    expect(toNanoUsd(0.000000001)).toBe(1);
  });

  it('undoes a reservation in the very bucket it was counted in, or nowhere once that bucket is gone', () => {
    const spec = { windowMs: 60_000, bucketCount: 60 };
    let state = addToWindow([], spec, 10_000, 5);
    state = addToWindow(state, spec, 30_000, 1);
    state = addToWindowAt(state, spec, 30_500, 10_000, -5);
    expect(windowTotal(state, spec, 30_500)).toBe(1);
    state = addToWindowAt(state, spec, 30_500, 20_000, 2);
    expect(state.map((bucket) => bucket.start)).toEqual([10_000, 20_000, 30_000]);
    expect(addToWindowAt(state, spec, 200_000, 10_000, -5)).toEqual([]);
  });
});

describe('request policy', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['text/plain', false],
    ['application/x-www-form-urlencoded', false],
    [undefined, false],
  ])('content type %s is JSON: %s', (type, expected) => {
    expect(isJsonContentType(type)).toBe(expected);
  });

  it('checks Host names with or without a port, IPv6 included', () => {
    const allowed = ['127.0.0.1', 'localhost', '::1', 'detour.internal'];
    expect(hostName('[::1]:8787')).toBe('::1');
    expect(isAllowedHost('127.0.0.1:8787', allowed)).toBe(true);
    expect(isAllowedHost('LOCALHOST', allowed)).toBe(true);
    expect(isAllowedHost('[::1]:1', allowed)).toBe(true);
    expect(isAllowedHost('detour.internal:443', allowed)).toBe(true);
    expect(isAllowedHost('attacker.example', allowed)).toBe(false);
    expect(isAllowedHost('127.0.0.1.attacker.example', allowed)).toBe(false);
    expect(isAllowedHost(undefined, allowed)).toBe(false);
  });

  it('refuses to bind beyond loopback without authentication, unless told', () => {
    expect(bindRefusal('127.0.0.1', { authMode: 'none', allowUnauthenticated: false })).toBeUndefined();
    expect(bindRefusal('::1', { authMode: 'none', allowUnauthenticated: false })).toBeUndefined();
    expect(bindRefusal('0.0.0.0', { authMode: 'none', allowUnauthenticated: false })).toMatch(/allow_unauthenticated/);
    expect(bindRefusal('0.0.0.0', { authMode: 'none', allowUnauthenticated: true })).toBeUndefined();
    expect(bindRefusal('10.0.0.5', { authMode: 'keys', allowUnauthenticated: false })).toBeUndefined();
  });

  it('sends CORS headers only to listed origins', () => {
    expect(corsHeaders('https://a.example', [], false)).toBeUndefined();
    expect(corsHeaders('https://b.example', ['https://a.example'], false)).toBeUndefined();
    expect(corsHeaders('https://a.example', ['https://a.example'], true)?.['access-control-allow-origin']).toBe('https://a.example');
    expect(corsHeaders(undefined, ['*'], false)).toBeUndefined();
  });
});

describe('redaction', () => {
  const secret = 'org-secret-value-42';
  it.each([
    ['raw', `echo ${secret}`],
    ['JSON-escaped', `{"m":"${[...secret].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`],
    ['URL-encoded', `url?x=${[...secret].map((char) => `%${char.charCodeAt(0).toString(16)}`).join('')}`],
    ['basic auth', `Authorization: Basic ${Buffer.from(`user:${secret}`).toString('base64')}`],
    ['basic auth, secret as user', `Basic ${Buffer.from(`${secret}:`).toString('base64')}`],
    ['base64 at offset 2', Buffer.from(`ab${secret}`).toString('base64')],
  ])('removes a secret sent %s', (_name, text) => {
    const out = redactBody(text, [secret]);
    expect(out).toContain('[redacted]');
    expect(out).not.toContain(secret);
    expect(out).not.toContain(Buffer.from(secret).toString('base64').slice(0, 12));
  });

  it('leaves ordinary text and escapes of punctuation alone', () => {
    expect(redactSecrets('a %22quoted%22 word \\u0022', ['org-secret-value-42'])).toBe('a %22quoted%22 word \\u0022');
    expect(redactSecrets('key dtr_abcdefghijkl and sk-abcdef123456', [])).toBe('key [redacted] and [redacted]');
  });
});
