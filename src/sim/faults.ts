import { z } from 'zod';

const duration = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/)]);

/** Converts `250`, `"250ms"`, `"10s"`, `"2m"` to milliseconds. */
export function toMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  const amount = Number(match[1]);
  return match[2] === 'ms' ? amount : match[2] === 's' ? amount * 1000 : amount * 60_000;
}

export const latencySchema = z.union([
  duration,
  z.object({ min: duration, max: duration }).strict(),
  /** Log-normal with the given median and 99th percentile: long-tailed, like real providers. */
  z.object({ p50: duration, p99: duration }).strict(),
]);

/**
 * One scripted misbehaviour. A fault applies to the requests it matches; `probability` makes it
 * intermittent, `times` makes it apply to the next N matching requests only.
 */
export const faultSchema = z
  .object({
    /** Only requests for this model (the simulator's notion of a route). */
    model: z.string().optional(),
    /** Only requests whose API key is this one (a fault on one key of several). */
    api_key: z.string().optional(),
    probability: z.number().min(0).max(1).default(1),
    times: z.number().int().positive().optional(),
    /** Answer with this HTTP status and an error body in the request's format. */
    status: z.number().int().min(400).max(599).optional(),
    /** Overrides the error body's code (e.g. `insufficient_quota`, `context_length_exceeded`). */
    error_code: z.string().optional(),
    error_message: z.string().optional(),
    retry_after_s: z.number().nonnegative().optional(),
    retry_after_ms: z.number().nonnegative().optional(),
    /** Delay before the answer's headers. */
    latency_ms: latencySchema.optional(),
    /** Accept the request and never answer. */
    hang: z.boolean().optional(),
    /** Stream this many chunks, then go silent without closing. */
    stall_after_chunks: z.number().int().nonnegative().optional(),
    /** Stream this many chunks, then drop the connection. */
    reset_after_chunks: z.number().int().nonnegative().optional(),
    /** Drop the connection without answering. */
    reset: z.boolean().optional(),
    /** Refuse connections: the simulator stops listening while this fault is active (timeline only). */
    down: z.boolean().optional(),
    /**
     * A rate-limit ceiling per key: at most this many requests per minute, enforced in slices of
     * `rate_limit_window_ms` (a sixth per 10 s by default), every answer carrying the provider's
     * rate-limit headers and a request beyond it answered 429 with `retry-after`. Such a fault
     * only sets the ceiling: list other misbehaviour as faults of their own.
     */
    rate_limit_rpm: z.number().int().positive().max(10_000_000).optional(),
    rate_limit_window_ms: z.number().int().min(100).max(60_000).optional(),
  })
  .strict();

export type Fault = z.infer<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;

/** `at 10s: down for 30s` as data. */
export const timelineEntrySchema = z
  .object({
    at: duration,
    for: duration.optional(),
    fault: faultSchema,
  })
  .strict();

export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const faultPlanSchema = z
  .object({
    faults: z.array(faultSchema).default([]),
    timeline: z.array(timelineEntrySchema).default([]),
  })
  .strict();

export type FaultPlan = z.infer<typeof faultPlanSchema>;

export interface FaultContext {
  model: string;
  apiKey: string;
  /** Milliseconds since the timeline started. */
  elapsedMs: number;
  random: () => number;
}

/** The timeline entries active at `elapsedMs`. */
export function activeTimeline(timeline: readonly TimelineEntry[], elapsedMs: number): Fault[] {
  const active: Fault[] = [];
  for (const entry of timeline) {
    const start = toMs(entry.at);
    const end = entry.for === undefined ? Infinity : start + toMs(entry.for);
    if (elapsedMs >= start && elapsedMs < end) active.push(entry.fault);
  }
  return active;
}

function matches(fault: Fault, context: FaultContext): boolean {
  if (fault.model !== undefined && fault.model !== context.model) return false;
  if (fault.api_key !== undefined && fault.api_key !== context.apiKey) return false;
  return true;
}

/**
 * Picks the fault for one request: the first matching candidate that fires. `remaining` counts
 * down `times` per fault object.
 */
export function pickFault(candidates: readonly Fault[], context: FaultContext, remaining: Map<Fault, number>): Fault | undefined {
  for (const fault of candidates) {
    if (fault.rate_limit_rpm !== undefined || !matches(fault, context)) continue;
    if (fault.times !== undefined && (remaining.get(fault) ?? fault.times) <= 0) continue;
    if (fault.probability < 1 && context.random() >= fault.probability) continue;
    if (fault.times !== undefined) remaining.set(fault, (remaining.get(fault) ?? fault.times) - 1);
    return fault;
  }
  return undefined;
}

/** Draws a latency in milliseconds from a fault's distribution. */
export function drawLatency(latency: Fault['latency_ms'], random: () => number): number {
  if (latency === undefined) return 0;
  if (typeof latency === 'number' || typeof latency === 'string') return toMs(latency);
  if ('min' in latency) {
    const min = toMs(latency.min);
    return min + random() * (toMs(latency.max) - min);
  }
  // Log-normal: ln(X) ~ N(mu, sigma) with median e^mu and p99 = e^(mu + 2.326 sigma).
  const median = Math.max(1, toMs(latency.p50));
  const p99 = Math.max(median, toMs(latency.p99));
  const mu = Math.log(median);
  const sigma = (Math.log(p99) - mu) / 2.326;
  const u1 = Math.max(random(), 1e-12);
  const u2 = random();
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.exp(mu + sigma * normal);
}

/** The rate-limit ceiling that applies to a request: the first matching `rate_limit_rpm` fault. */
export function pickCeiling(candidates: readonly Fault[], context: FaultContext): Fault | undefined {
  return candidates.find((fault) => fault.rate_limit_rpm !== undefined && matches(fault, context));
}
