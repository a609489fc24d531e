import { z } from 'zod';
import type { BreakerOpenReason, BreakerState } from '../core/breaker.js';
import type { HealthState, HealthStatus } from '../core/health.js';

/**
 * What crosses the wire between instances, parsed at the edge: a state read from Redis or heard
 * on the change channel may come from another Detour version or a hand edit, so nothing is
 * trusted until it has the shape of a core state.
 */

const openReasons = ['failure_count', 'failure_rate', 'probe_failed', 'health_check', 'rate_limited', 'slow_calls'] as const satisfies readonly BreakerOpenReason[];
const healthStatuses = ['unknown', 'healthy', 'unhealthy'] as const satisfies readonly HealthStatus[];
// Fails to compile when core adds a reason or status this file does not know yet.
const everyReason: Exclude<BreakerOpenReason, (typeof openReasons)[number]> extends never ? true : never = true;
const everyStatus: Exclude<HealthStatus, (typeof healthStatuses)[number]> extends never ? true : never = true;
void everyReason;
void everyStatus;

const epochMs = z.number().finite();
const reason = z.enum(openReasons);

const breakerStateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('closed'), since: epochMs }),
  z.object({ status: z.literal('open'), since: epochMs, until: epochMs, cooldownMs: epochMs, reason, probedAt: epochMs.optional() }),
  z.object({
    status: z.literal('half_open'),
    since: epochMs,
    cooldownMs: epochMs,
    reason,
    probe: z.object({ holder: z.string(), expiresAt: epochMs }).nullable(),
  }),
]);

const healthStateSchema = z.object({
  status: z.enum(healthStatuses),
  consecutiveSuccesses: z.number().int().min(0),
  consecutiveFailures: z.number().int().min(0),
  checkedAt: epochMs.nullable(),
  changedAt: epochMs,
  lastError: z.string().nullable(),
});

/** The two kinds of shared per-target state. */
export type SharedKind = 'breaker' | 'health';

export interface SharedStates {
  breaker: BreakerState;
  health: HealthState;
}

const stateSchemas = { breaker: breakerStateSchema, health: healthStateSchema } as const;

/** A state of `kind` from its JSON text, or undefined when the text is not one. */
export function parseState<K extends SharedKind>(kind: K, json: string): SharedStates[K] | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = stateSchemas[kind].safeParse(raw);
  return parsed.success ? (parsed.data as SharedStates[K]) : undefined;
}

/**
 * One change as published on the channel. The version is not in the body: the publishing script
 * prefixes it (`<version>\n<body>`), since only the script knows the version it wrote.
 */
export interface ChangeMessage {
  /** The publishing store's id, so that a store skips its own echo. */
  origin: string;
  kind: SharedKind;
  targetId: string;
  /** The new state's JSON text, exactly as stored. */
  json: string;
  version: number;
}

const messageBodySchema = z.object({ o: z.string(), k: z.enum(['breaker', 'health']), t: z.string(), s: z.string() });

/** The body a change script publishes after the version it writes. */
export function encodeChangeBody(origin: string, kind: SharedKind, targetId: string, json: string): string {
  return JSON.stringify({ o: origin, k: kind, t: targetId, s: json });
}

/** A channel message, or undefined when it is not one of ours. */
export function parseChangeMessage(message: string): ChangeMessage | undefined {
  const newline = message.indexOf('\n');
  if (newline <= 0) return undefined;
  const version = parseVersion(message.slice(0, newline));
  if (version === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(message.slice(newline + 1));
  } catch {
    return undefined;
  }
  const body = messageBodySchema.safeParse(raw);
  if (!body.success) return undefined;
  return { origin: body.data.o, kind: body.data.k, targetId: body.data.t, json: body.data.s, version };
}

/**
 * A version as the scripts write it: a non-negative integer in decimal (microseconds of the
 * server's clock, so exact in a double until the year 2255).
 */
export function parseVersion(text: unknown): number | undefined {
  if (typeof text !== 'string' || !/^\d{1,16}$/.test(text)) return undefined;
  return Number(text);
}
