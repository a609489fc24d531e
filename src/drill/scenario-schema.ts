import { z } from 'zod';
import { faultSchema, latencySchema } from '../sim/faults.js';
import { absoluteDurationSchema, scenarioTimeSchema } from './duration.js';

/**
 * Which targets of the route under test an incident hits: `primary` (the route's first
 * target), `backups` (every other one), `all`, or a 1-based position in the route's list.
 */
export const incidentScopeSchema = z.union([z.enum(['primary', 'backups', 'all']), z.number().int().positive()]);

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

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
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
    verdict: z
      .object({
        /** Judge success rate and p95 latency against the route's SLO. Off for outages no routing can hide. */
        slo: z.boolean().default(true),
        /**
         * Count streams cut after their first token as failures of the SLO. Such a stream cannot be
         * retried invisibly (its start is already with the client); turn off to judge only how
         * fast it ends, which the deadline check does anyway.
         */
        count_cut_streams: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type Incident = z.infer<typeof incidentSchema>;
export type IncidentFault = z.infer<typeof incidentFaultSchema>;
export type IncidentScope = z.infer<typeof incidentScopeSchema>;
