import type { Random } from '../core/clock.js';
import { parseTraceparent, parseTracestate, type TraceContext } from '../core/trace-context.js';
import { newSpanId, newTraceId } from '../engine/trace-ids.js';
import type { GatewayRequest } from './http.js';

/** Whether and how this gateway records spans (`telemetry:`); absent, it records none. */
export interface TraceRecording {
  /** Share of new traces recorded, 0 to 1. */
  sampleRatio: number;
  random: Random;
}

/**
 * The request's trace context. A valid `traceparent` from the client is continued (its sampling
 * decision kept); without one, a new trace starts when Detour records spans. Undefined when there
 * is nothing to carry: no client context and no recording, the usual case, which costs one header
 * lookup.
 */
export function traceContextOf(request: GatewayRequest, recording: TraceRecording | undefined): TraceContext | undefined {
  const parent = parseTraceparent(request.headers.traceparent);
  if (!parent) {
    if (!recording) return undefined;
    const isSampled = recording.sampleRatio >= 1 || recording.random() < recording.sampleRatio;
    return { traceId: newTraceId(), spanId: newSpanId(), flags: isSampled ? '01' : '00' };
  }
  return { traceId: parent.traceId, parentSpanId: parent.parentSpanId, flags: parent.flags, tracestate: parseTracestate(request.headers.tracestate), spanId: recording ? newSpanId() : undefined };
}
