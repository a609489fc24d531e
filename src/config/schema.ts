import { z } from 'zod';
import { alertsSchema, priceSchema, requestLogSchema, sloSchema } from './observability-schema.js';
import { breakerOverrideSchema, breakerSchema, capabilitiesSchema, healthCheckSchema, routeResilienceShape } from './resilience-schema.js';
import { authSchema } from './auth-schema.js';
import { telemetrySchema } from './telemetry-schema.js';
import { stateSchema } from './state-schema.js';
import { regionNameSchema, routeRegionsSchema } from './region-schema.js';
import { limitsSchema, queueSchema } from './capacity-schema.js';

const positiveMs = z.number().int().positive();

export const retrySchema = z
  .object({
    /** Attempts per target, the first included. */
    attempts: z.number().int().min(1).max(10).default(2),
    backoff_ms: z.number().int().min(0).default(200),
    max_backoff_ms: z.number().int().min(0).default(5000),
  })
  .strict();

/** Timing settings a route may set and `defaults` may give to every route. */
const routeTimingShape = {
  retry: retrySchema.optional(),
  timeout_ms: positiveMs.optional(),
  attempt_timeout_ms: positiveMs.optional(),
  first_token_timeout_ms: positiveMs.optional(),
  stream_idle_timeout_ms: positiveMs.optional(),
  /** A stream that breaks after reaching the client: `continue` it on another target (default) or end it with an `error` event. */
  on_stream_failure: z.enum(['continue', 'error']).optional(),
  /** A stream slower than this many tokens per second (over 5 s) counts as broken. */
  stream_min_tokens_per_s: z.number().positive().max(100_000).optional(),
};

export const targetSchema = z
  .object({
    provider: z.string().min(1),
    model: z.string().min(1),
    weight: z.number().positive().default(1),
    /** Used when the client sent no max_tokens and the upstream requires one (Anthropic). */
    max_tokens: z.number().int().positive().optional(),
    /** What the model can do, over the built-in catalog's knowledge. */
    capabilities: capabilitiesSchema.optional(),
    /** The same capabilities may be declared on the target itself (`vision: false`). */
    ...capabilitiesSchema.shape,
    /** Embeddings routes: the vector size this target returns (sent as `dimensions` when the client gave none). */
    dimensions: z.number().int().positive().optional(),
    /** Embeddings routes: the model behind this target when its name does not say (an Azure deployment). */
    embedding_model: z.string().min(1).optional(),
    /** Where this target's upstream runs, over its provider's `region`. */
    region: regionNameSchema.optional(),
    /** Rate limits of this target's keys, over its provider's `limits`. */
    limits: limitsSchema.optional(),
  })
  .strict();

export const routeSchema = z
  .object({
    /** What the route serves: chat (completions, messages, responses) or embeddings. */
    kind: z.enum(['chat', 'embeddings']).default('chat'),
    targets: z.array(targetSchema).min(1, 'a route needs at least one target'),
    ...routeTimingShape,
    ...routeResilienceShape,
    /** Objectives alerted on by burn rate (observability only; the engine ignores it). */
    slo: sloSchema.optional(),
    /** Data residency: the only regions this route's requests may reach. */
    regions: routeRegionsSchema.optional(),
    /** Where requests wait when every target is at its rate limit (or down), instead of failing. */
    queue: queueSchema.prefault({}),
  })
  .strict();

export const providerSchema = z
  .object({
    type: z.string().min(1),
    base_url: z.string().url(),
    api_key: z.string().optional(),
    /** Several keys, each its own target; a named one (`{ name, key }`) can be bound to client keys (`upstream_keys`). */
    api_keys: z.array(z.union([z.string().min(1), z.object({ name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _'), key: z.string().min(1) }).strict()])).min(1).optional(),
    /**
     * Models a client may address directly as `provider/model` (with `server.direct_addressing`):
     * exact names or `*` patterns (`gpt-4o*`). The models of this provider's route targets are always listed.
     */
    models: z.array(z.string().min(1).max(200)).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** Azure OpenAI API version. */
    api_version: z.string().optional(),
    /** Which OpenAI API the provider is called with: Chat Completions (default) or the Responses API (`openai`, `azure-openai`). */
    api: z.enum(['chat', 'responses']).default('chat'),
    /** Anthropic `anthropic-version` header. */
    anthropic_version: z.string().optional(),
    /** Ask OpenAI-compatible upstreams for usage in streams (for cost); turn off for vendors that reject `stream_options`. */
    stream_usage: z.boolean().default(true),
    /** Active health checks of this provider's targets. */
    health_check: healthCheckSchema.optional(),
    /** Breaker settings for this provider's targets, over the top-level `breaker:`. */
    breaker: breakerOverrideSchema.optional(),
    /** Most connections open at once to this provider's origin; more requests wait (spending their deadline). */
    max_connections: z.number().int().positive().max(65_536).default(256),
    /** Where this provider's upstream runs (`us-east`, `eu-west`). */
    region: regionNameSchema.optional(),
    /** Rate limits of each of this provider's keys: `{ rpm, tpm }`; Detour paces below them and learns the rest from the provider's headers. */
    limits: limitsSchema.optional(),
  })
  .strict()
  .refine((provider) => !(provider.api_key !== undefined && provider.api_keys !== undefined), {
    message: 'give either api_key or api_keys, not both',
    path: ['api_keys'],
  })
  .refine((provider) => provider.api === 'chat' || responsesApiTypes.includes(provider.type), {
    message: 'api: responses is for providers of type openai or azure-openai',
    path: ['api'],
  });

/** Provider types that serve the Responses API. */
const responsesApiTypes = ['openai', 'azure-openai'];

export const serverSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Largest request body accepted, in bytes. */
    max_body_bytes: z.number().int().positive().default(10 * 1024 * 1024),
    /** Bearer token for /admin, /dashboard and /metrics; without it they answer only to loopback clients. */
    admin_token: z.string().min(16, 'admin_token must be at least 16 characters').optional(),
    /** Listen on a non-loopback address with `auth.mode: none` (anyone who reaches the port spends the upstream keys). */
    allow_unauthenticated: z.boolean().default(false),
    /** Browser origins allowed to call the public API (CORS); none by default. */
    cors_origins: z.array(z.string().min(1)).default([]),
    /** `Host` names accepted without an admin token; by default the listen address, localhost and 127.0.0.1. */
    allowed_hosts: z.array(z.string().min(1)).optional(),
    /** Let clients address `provider/model` directly (only models a provider lists in `models:` or its routes use). */
    direct_addressing: z.boolean().default(false),
    /** Reload the config when its file changes (as SIGHUP and POST /admin/api/reload do). */
    watch_config: z.boolean().default(false),
    /** On SIGTERM/SIGINT, how long requests and streams in flight may take to finish before they are ended with an error. */
    shutdown_grace_ms: z.number().int().min(0).default(30_000),
    /**
     * On SIGTERM/SIGINT, how long to keep accepting and serving while `/healthz` answers 503
     * `draining`, before the server stops accepting: a load balancer's health check takes the
     * instance out first, so no new request meets a closed port. Set it above the check's
     * interval × failures to mark down.
     */
    shutdown_drain_ms: z.number().int().min(0).max(300_000).default(0),
    /** Longest a client may take to send its request headers (Node answers 408 past it, in the client's format). */
    headers_timeout_ms: z.number().int().positive().default(60_000),
    /** Longest a client may take to send its whole request, body included. */
    request_timeout_ms: z.number().int().positive().default(300_000),
    /** Deepest nesting of objects and arrays accepted in a request body; deeper is a 400 naming the path. */
    max_json_depth: z.number().int().min(8).max(10_000).default(128),
    /** Largest non-streaming upstream answer read (decoded); past it the attempt fails over as UPSTREAM_BAD_RESPONSE. */
    max_upstream_body_bytes: z.number().int().positive().default(32 * 1024 * 1024),
    /** Largest single event of an upstream stream; past it the attempt fails as UPSTREAM_BAD_RESPONSE. */
    max_upstream_event_bytes: z.number().int().positive().default(8 * 1024 * 1024),
    /** Where this instance runs (`DETOUR_REGION` sets it): the `nearest` strategy's home region. */
    region: regionNameSchema.optional(),
  })
  .strict();

export const configSchema = z
  .object({
    server: serverSchema.prefault({}),
    defaults: z.object(routeTimingShape).strict().default({}),
    providers: z.record(z.string(), providerSchema),
    models: z.record(z.string(), routeSchema),
    /** Circuit breaker settings, for every target. */
    breaker: breakerSchema.prefault({}),
    /** The request log (SQLite). */
    log: requestLogSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    /** Price overrides by model name or prefix, USD per million tokens. */
    prices: z.record(z.string(), priceSchema).default({}),
    /** Where circuits, health and counters live: this process (default) or Redis, shared by a cluster. */
    state: stateSchema.prefault({}),
    /** Client authentication: virtual keys with scopes, limits and budgets. */
    auth: authSchema.prefault({}),
    /** OpenTelemetry traces over OTLP/HTTP, when `otlp_endpoint` is set. */
    telemetry: telemetrySchema.prefault({}),
  })
  .strict();

export type DetourConfig = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
