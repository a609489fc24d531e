import { z } from 'zod';
import { faultSchema, latencySchema } from '../sim/faults.js';
import { absoluteDurationSchema, scenarioTimeSchema } from './duration.js';

/**
 * Which targets of the route under test an incident hits: `primary` (the route's first
 * target), `backups` (every other one), `all`, `home_region` (every target in the instance's
 * region, `server.region`), or a 1-based position in the route's list.
 */
export const incidentScopeSchema = z.union([z.enum(['primary', 'backups', 'all', 'home_region']), z.number().int().positive()]);

/** What goes wrong. The drill adds the model and key the fault applies to, so neither is written here. */
export const incidentFaultSchema = faultSchema.omit({ model: true, api_key: true });

export const incidentSchema = z
  .object({
    on: incidentScopeSchema.default('primary'),
    /** `first`: only the first configured key of each hit target (a rate limit is per key). */
    keys: z.enum(['all', 'first']).default('all'),
    at: scenarioTimeSchema,
    for: scenarioTimeSchema,
    /** Alternate: the fault holds for this long, then lifts for as long, until the window ends. */
    flap_every: scenarioTimeSchema.optional(),
    /**
     * With `down`: whether answers already under way finish (`finish`, a host taken out of
     * rotation) or are cut with their connections (`drop`, a host that crashed: streams that had
     * started cannot be saved by any gateway).
     */
    in_flight: z.enum(['finish', 'drop']).default('finish'),
    fault: incidentFaultSchema,
  })
  .strict();

/**
 * Lowers a scenario's success-rate bar below the route's SLO, which only a written reason may do.
 * `outside_incident`: the share of requests sent outside the incidents (what no routing could
 * have saved is forgiven, nothing else), minus `allowance` (a share, 0.02 = two points) for the
 * requests in flight at the edges.
 */
export const successBarSchema = z
  .object({
    min: z.union([z.number().gt(0).max(1), z.literal('outside_incident')]),
    allowance: z.number().min(0).max(0.2).default(0.02),
    reason: z.string().trim().min(10, 'say why this scenario may miss the route\'s SLO (at least a sentence)'),
  })
  .strict();

/**
 * Widens a scenario's p95 bound, which only a written reason may do. `outage_wait`: a request sent
 * while every upstream is down is held until one is back (`wait_for_recovery_ms`), so the bound
 * adds the longest such wait: the longest incident window, at most `wait_for_recovery_ms`, plus
 * one recovery-probe interval.
 */
export const p95WideningSchema = z
  .object({
    plus: z.literal('outage_wait'),
    reason: z.string().trim().min(10, 'say why this scenario`s clients may wait longer than one failover (at least a sentence)'),
  })
  .strict();

export const verdictSchema = z
  .object({
    /** Absent: the route's SLO (99 % by default), as for any other traffic. */
    success_rate: successBarSchema.optional(),
    /** Absent: the calm p95 plus one failover. */
    p95: p95WideningSchema.optional(),
    /**
     * How soon after the incident's end success must be back at the SLO. Default: 2 s plus the
     * longest health-check interval of the route's providers; written for the scenario's natural
     * length and shrunk with it, like every absolute time.
     */
    recover_within: absoluteDurationSchema.optional(),
    /** Earlier versions' switches, refused with a message that says what replaced them. */
    slo: z.unknown().optional(),
    count_cut_streams: z.unknown().optional(),
  })
  .strict()
  .superRefine((verdict, context) => {
    for (const key of ['slo', 'count_cut_streams'] as const) {
      if (verdict[key] !== undefined) context.addIssue({ code: 'custom', path: [key], message: `${key} is no longer accepted: every scenario is judged on the route's SLO and counts cut streams as failures; lower the bar with success_rate: { min, reason }` });
    }
  });

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    /** What goes wrong, without times: the report adds the times the run actually used. */
    description: z.string().min(1),
    /** The scenario's natural length; absolute times below are written for it. */
    duration: absoluteDurationSchema,
    /** How every simulator behaves when nothing is wrong. */
    baseline: z
      .object({
        latency_ms: latencySchema.optional(),
        chunk_delay_ms: z.number().int().nonnegative().default(30),
      })
      .strict()
      .prefault({}),
    incidents: z.array(incidentSchema).min(1, 'a scenario needs at least one incident'),
    verdict: verdictSchema.prefault({}),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type SuccessBar = z.infer<typeof successBarSchema>;
export type P95Widening = z.infer<typeof p95WideningSchema>;
export type Incident = z.infer<typeof incidentSchema>;
export type IncidentFault = z.infer<typeof incidentFaultSchema>;
export type IncidentScope = z.infer<typeof incidentScopeSchema>;
