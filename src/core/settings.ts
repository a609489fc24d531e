import type { RetryPolicy } from './backoff.js';
import type { BreakerSettings } from './breaker.js';
import type { HealthSettings } from './health.js';
import type { HedgeSettings } from './hedge.js';
import type { ModelCapabilities } from './model-catalog.js';
import type { RateLimitSpec } from './rate-limits.js';
import type { RetryBudgetSettings } from './retry-budget.js';
import type { StrategyName } from './strategies.js';

/**
 * Runtime settings the engine runs from. The config layer parses YAML into these; the engine
 * never sees YAML, environment variables or snake_case.
 */

/** One upstream account: a wire format at a base URL with one or more keys. */
export interface ProviderSettings {
  name: string;
  /** Adapter type: `openai`, `azure-openai`, `anthropic`, `gemini`. */
  type: string;
  baseUrl: string;
  /** Keys in order; each one is its own target for breakers and statistics. */
  apiKeys: readonly string[];
  /** Each key's name (the config's, or its index), in the order of `apiKeys`; client keys bind to them (`upstream_keys`). */
  keyNames?: readonly string[] | undefined;
  /** Models clients may address directly (`provider/model`): exact names or `*` patterns. */
  models?: readonly string[] | undefined;
  /** Extra static headers sent upstream (organization, project, beta flags). */
  headers: Readonly<Record<string, string>>;
  /** Adapter-specific options (e.g. Azure `api_version`, Anthropic `version`). */
  options: Readonly<Record<string, unknown>>;
  /** Active health checks; absent when the provider is not probed. */
  healthCheck?: HealthCheckSettings | undefined;
  /** Breaker settings for this provider's targets, over the global ones. */
  breaker?: Partial<BreakerSettings> | undefined;
  /** Most connections open at once to this provider's origin (the tightest cap wins when providers share one). */
  maxConnections?: number | undefined;
  /** Where this provider's upstream runs (`us-east`); a route entry may say otherwise for its target. */
  region?: string | undefined;
  /** Rate limits of each of this provider's keys (per model: each target counts its own), declared in the config. */
  limits?: RateLimitSpec | undefined;
}

/** How a provider's targets are probed. */
export interface HealthCheckSettings extends HealthSettings {
  /** `models` lists the provider's models (costs no tokens); `completion` asks for one token. */
  mode: 'models' | 'completion';
}

/** One entry of a route's target list. */
export interface TargetSettings {
  provider: string;
  model: string;
  /** Relative share for the weighted strategy. */
  weight: number;
  /** Default for `max_tokens` when the client gave none and the format requires it. */
  maxTokens?: number | undefined;
  /** Embeddings: the vector size this target returns. */
  dimensions?: number | undefined;
  /** Declared capabilities; what is not declared comes from the model catalog. */
  capabilities?: Partial<ModelCapabilities> | undefined;
  /** Where this target's upstream runs, over its provider's region. */
  region?: string | undefined;
  /** Rate limits over the provider's, for this target's keys. */
  limits?: RateLimitSpec | undefined;
}

/** A route's queue for requests that find every target at its rate limit (or every target down). */
export interface QueueSettings {
  /** Most requests waiting at once; one more is answered 429 at once. */
  max: number;
  /** Longest a request waits before it is answered 429 (also bounded by the route's deadline). */
  timeoutMs: number;
}

/** A shadow target that sees a sample of a route's requests; its answers are only compared. */
export interface MirrorSettings {
  provider: string;
  model: string;
  /** Share of requests mirrored, in [0, 1]. */
  sampleRate: number;
}

export interface RouteSettings {
  name: string;
  /** What the route serves; chat when absent. An embeddings route answers only `/v1/embeddings`, a chat route never does. */
  kind?: 'chat' | 'embeddings' | undefined;
  targets: readonly TargetSettings[];
  retry: RetryPolicy;
  /** The whole request, across every retry and fallback. */
  timeoutMs: number;
  /** One upstream attempt, until its last byte. */
  attemptTimeoutMs: number;
  /** Streaming: the first event must arrive within this. */
  firstTokenTimeoutMs: number;
  /** Streaming: the longest silence between two events once the stream has started. */
  streamIdleTimeoutMs: number;
  /**
   * What a stream that breaks after reaching the client becomes: `continue` re-issues the request
   * to the next healthy target with the partial answer as a prefix and splices the rest in;
   * `error` ends it with an explicit error event. Tool-call arguments are never continued.
   */
  onStreamFailure: 'continue' | 'error';
  /** Streaming: a stream slower than this (tokens per second, over 5 s) counts as broken; unset, the pace is not judged. */
  streamMinTokensPerS?: number | undefined;
  /** Orders the candidates; failover walks the rest of that order. */
  strategy: StrategyName;
  /** The route that answers, marked degraded, when every target of this one failed. */
  degradeTo?: string | undefined;
  /** When every circuit is open, wait up to this long for the first cooldown to end instead of failing at once (0: fail at once). */
  waitForRecoveryMs: number;
  retryBudget: RetryBudgetSettings;
  hedge: HedgeSettings & { budget: RetryBudgetSettings };
  mirror?: MirrorSettings | undefined;
  /** Breaker settings for this route's targets, over the provider's and the global ones. */
  breaker?: Partial<BreakerSettings> | undefined;
  /**
   * Data residency: the only regions this route's requests may reach (targets elsewhere, or of no
   * declared region, are left out of it at start: no attempt, hedge, mirror, probe or degraded
   * route leaves them). Undefined: every region.
   */
  regions?: readonly string[] | undefined;
  /** Where requests wait when every target is at its limit. */
  queue: QueueSettings;
}

/** A concrete upstream: provider + model + key. The unit breakers and statistics are kept for. */
export interface Target {
  /** `provider/model` plus `#n` for the n-th key when the provider has several; never the key. */
  id: string;
  provider: ProviderSettings;
  model: string;
  apiKey: string;
  keyIndex: number;
  settings: TargetSettings;
  /** Where its upstream runs: the route entry's region, else the provider's; undefined when neither says. */
  region?: string | undefined;
}
