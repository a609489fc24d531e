/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
 * a client sends are read here, strictly, because they are continued to an upstream as headers
 * (a hostile value must never become a header Node refuses, or one that smuggles another).
 */

/** One request's place in a distributed trace. */
export interface TraceContext {
  /** 32 lower-case hex digits, never all zero. */
  traceId: string;
  /** The caller's span (its `traceparent`'s parent-id), when it sent one: Detour's request span is its child. */
  parentSpanId?: string | undefined;
  /**
   * The request's own span, when Detour records spans (`telemetry.otlp_endpoint`): each upstream
   * call is a child span of it, and carries that child in its `traceparent`. Absent, the caller's
   * context goes to the upstream unchanged.
   */
  spanId?: string | undefined;
  /** trace-flags as two hex digits; bit 0 is "sampled". */
  flags: string;
  /** The caller's `tracestate`, checked and bounded; passed on as it is. */
  tracestate?: string | undefined;
}

export interface Traceparent {
  traceId: string;
  parentSpanId: string;
  flags: string;
}

const hex32 = /^[0-9a-f]{32}$/;
const hex16 = /^[0-9a-f]{16}$/;
const hex2 = /^[0-9a-f]{2}$/;
const zeros32 = '0'.repeat(32);
const zeros16 = '0'.repeat(16);

/**
 * A `traceparent` header's value, or undefined when it is absent or invalid (then a new trace
 * starts, as the spec asks). Version 00 is exactly 55 characters; a later version may carry more
 * fields after a dash, which are ignored; version ff is invalid.
 */
export function parseTraceparent(value: string | readonly string[] | undefined): Traceparent | undefined {
  // Two traceparent headers cannot both be the parent.
  if (typeof value !== 'string' || value.length < 55) return undefined;
  const version = value.slice(0, 2);
  if (!hex2.test(version) || version === 'ff') return undefined;
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') return undefined;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const parentSpanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!hex32.test(traceId) || traceId === zeros32 || !hex16.test(parentSpanId) || parentSpanId === zeros16 || !hex2.test(flags)) return undefined;
  // Only the sampled bit is defined for version 00's successors to rely on; others pass as they came.
  return { traceId, parentSpanId, flags };
}

/** The spec's limits for `tracestate`: 32 list members, and at least 512 characters kept. */
const maxMembers = 32;
const maxTracestateChars = 512;
const memberPattern = /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * A `tracestate` worth passing on: its valid members (repeated headers joined, as the spec
 * allows), at most 32 and 512 characters, whole members dropped from the end past that; undefined
 * when nothing valid is left.
 */
export function parseTracestate(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const joined = typeof value === 'string' ? value : value.join(',');
  // A hostile header is not split forever: past a bound it is not a tracestate anyone sent in good faith.
  if (joined.length > maxTracestateChars * 8) return undefined;
  const kept: string[] = [];
  let length = 0;
  for (const raw of joined.split(',')) {
    const member = raw.trim();
    if (member === '' || !memberPattern.test(member)) continue;
    if (kept.length >= maxMembers || length + member.length + (kept.length > 0 ? 1 : 0) > maxTracestateChars) break;
    length += member.length + (kept.length > 0 ? 1 : 0);
    kept.push(member);
  }
  return kept.length > 0 ? kept.join(',') : undefined;
}

/** Whether the trace is sampled (trace-flags bit 0). */
export function isSampled(context: TraceContext): boolean {
  return (Number.parseInt(context.flags, 16) & 1) === 1;
}

/**
 * The headers an upstream call carries: the attempt's own span as the parent when Detour records
 * spans, else the caller's context as it came.
 */
export function upstreamTraceHeaders(context: TraceContext, attemptSpanId: string | undefined): Record<string, string> {
  const parent = attemptSpanId ?? context.parentSpanId;
  const headers: Record<string, string> = {};
  if (parent === undefined) return headers;
  headers.traceparent = `00-${context.traceId}-${parent}-${context.flags}`;
  if (context.tracestate !== undefined) headers.tracestate = context.tracestate;
  return headers;
}
