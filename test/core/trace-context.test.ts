import { describe, expect, it } from 'vitest';
import { isSampled, parseTraceparent, parseTracestate, upstreamTraceHeaders } from '../../src/core/trace-context.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

describe('W3C traceparent', () => {
  it.each([
    [`00-${traceId}-${spanId}-01`, { traceId, parentSpanId: spanId, flags: '01' }],
    [`00-${traceId}-${spanId}-00`, { traceId, parentSpanId: spanId, flags: '00' }],
    // A later version may append fields; the known ones are read.
    [`01-${traceId}-${spanId}-01-extra`, { traceId, parentSpanId: spanId, flags: '01' }],
    [`cc-${traceId}-${spanId}-09`, { traceId, parentSpanId: spanId, flags: '09' }],
  ])('reads %s', (header, expected) => {
    expect(parseTraceparent(header)).toEqual(expected);
  });

  it.each([
    ['absent', undefined],
    ['two headers', [`00-${traceId}-${spanId}-01`, `00-${traceId}-${spanId}-01`]],
    ['version ff', `ff-${traceId}-${spanId}-01`],
    ['version 00 with more fields', `00-${traceId}-${spanId}-01-extra`],
    ['a later version without a dash after the flags', `01-${traceId}-${spanId}-01x`],
    ['upper-case hex', `00-${traceId.toUpperCase()}-${spanId}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${traceId.slice(1)}-${spanId}-01`],
    ['CR/LF smuggled in', `00-${traceId}-${spanId}-0\r`],
    ['garbage', 'x'.repeat(55)],
  ])('refuses %s', (_what, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('sampled is bit 0 of the flags', () => {
    expect(isSampled({ traceId, flags: '01' })).toBe(true);
    expect(isSampled({ traceId, flags: '03' })).toBe(true);
    expect(isSampled({ traceId, flags: '02' })).toBe(false);
  });
});

describe('W3C tracestate', () => {
  it('keeps valid members, joins repeated headers, drops invalid ones', () => {
    expect(parseTracestate('vendor=abc, other@tenant=1')).toBe('vendor=abc,other@tenant=1');
    expect(parseTracestate(['a=1', 'b=2'])).toBe('a=1,b=2');
    expect(parseTracestate('Upper=1,ok=2,bad\r\n=3,=x')).toBe('ok=2');
    expect(parseTracestate('nothing valid')).toBeUndefined();
  });

  it('keeps at most 32 members and 512 characters, dropping whole members', () => {
    const many = Array.from({ length: 40 }, (_, index) => `k${index}=v`).join(',');
    expect(parseTracestate(many)?.split(',')).toHaveLength(32);
    const long = Array.from({ length: 10 }, (_, index) => `k${index}=${'v'.repeat(100)}`).join(',');
    const kept = parseTracestate(long) ?? '';
    expect(kept.length).toBeLessThanOrEqual(512);
    expect(kept.split(',').every((member) => /^k\d=v{100}$/.test(member))).toBe(true);
    expect(parseTracestate('a=1,'.repeat(10_000))).toBeUndefined();
  });
});

describe('the headers an upstream call carries', () => {
  it("names the attempt's span when Detour records, the caller's otherwise", () => {
    const context = { traceId, parentSpanId: spanId, flags: '01', tracestate: 'a=1' };
    expect(upstreamTraceHeaders(context, 'aaaaaaaaaaaaaaaa')).toEqual({ traceparent: `00-${traceId}-aaaaaaaaaaaaaaaa-01`, tracestate: 'a=1' });
    expect(upstreamTraceHeaders(context, undefined)).toEqual({ traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'a=1' });
    expect(upstreamTraceHeaders({ traceId, flags: '01' }, undefined)).toEqual({});
  });
});
