import type { RetryPolicy } from '../core/backoff.js';
import type { BreakerSettings } from '../core/breaker.js';
import { defaultBreakerSettings } from '../core/breaker.js';
import { defaultHedgeSettings } from '../core/hedge.js';
import { defaultRetryBudgetSettings, type RetryBudgetSettings } from '../core/retry-budget.js';
import type { StrategyName } from '../core/strategies.js';
import type { HealthCheckSettings, ProviderSettings, RouteSettings, TargetSettings } from '../core/settings.js';
import type { DetourConfig, ProviderConfig, RouteConfig } from './schema.js';

/** Route timing when neither the route nor `defaults` says otherwise. */
export const builtInRouteDefaults = {
  retry: { attempts: 2, backoffMs: 200, maxBackoffMs: 5000 } satisfies RetryPolicy,
  /**
   * The whole request, a flowing stream included: long enough for a healthy 10-minute answer
   * (reasoning models, long outputs) with room to spare. Hung targets are caught much sooner by
   * the attempt, first-token and idle timeouts.
   */
  timeoutMs: 900_000,
  /** Until the response starts (headers; a stream's first token), not until its last byte. */
  attemptTimeoutMs: 30_000,
  firstTokenTimeoutMs: 10_000,
  streamIdleTimeoutMs: 30_000,
  onStreamFailure: 'continue' as RouteSettings['onStreamFailure'],
  streamMinTokensPerS: undefined as number | undefined,
};

/**
 * How long a request waits when every target of its route is down. Ten seconds covers the
 * usual provider blip (a deploy, a burst of 5xx, a load balancer flap): the request is answered
 * late rather than not at all, while recovery probes go out every second. Longer would mostly
 * hold connections for outages no wait can hide; clients' own timeouts (10 minutes in the
 * official SDKs) are far beyond it, and a client that cannot wait sets it lower.
 */
export const defaultWaitForRecoveryMs = 10_000;

/** Route settings for a `provider/model` address, which has no config of its own. */
export function directRouteDefaults(defaults: Omit<RouteSettings, 'name' | 'targets'>): Omit<RouteSettings, 'name' | 'targets'> {
  return { ...defaults, ...resilience() };
}

/** A route's queue when it says nothing: a thousand requests, each for at most 30 s. */
export const defaultQueue = { max: 1000, timeoutMs: 30_000 };

export interface RuntimeSettings {
  providers: ProviderSettings[];
  routes: RouteSettings[];
  defaults: Omit<RouteSettings, 'name' | 'targets'>;
  breaker: BreakerSettings;
  /** `server.direct_addressing`: `provider/model` addresses a listed model directly. */
  directAddressing: boolean;
  /** `server.region` (or `DETOUR_REGION`): this instance's region. */
  region: string | undefined;
}

/** Maps the YAML's snake_case config onto the engine's settings. */
export function toRuntimeSettings(config: DetourConfig): RuntimeSettings {
  const defaults = { ...timing(config.defaults, undefined), ...resilience(), queue: { ...defaultQueue } };
  const providers: ProviderSettings[] = Object.entries(config.providers).map(([name, provider]) => ({
    name,
    type: provider.type,
    baseUrl: provider.base_url,
    apiKeys: providerKeys(provider).map((entry) => entry.key),
    keyNames: providerKeys(provider).map((entry) => entry.name),
    models: provider.models,
    headers: provider.headers,
    options: {
      api_version: provider.api_version,
      anthropic_version: provider.anthropic_version,
      api: provider.api,
      stream_usage: provider.stream_usage,
    },
    healthCheck: healthCheck(provider),
    breaker: breakerOverride(provider.breaker),
    maxConnections: provider.max_connections,
    region: provider.region,
    limits: provider.limits,
  }));
  const routes: RouteSettings[] = Object.entries(config.models).map(([name, route]) => ({
    name,
    kind: route.kind,
    targets: route.targets.map((target) => ({
      provider: target.provider,
      model: target.model,
      weight: target.weight,
      maxTokens: target.max_tokens,
      dimensions: target.dimensions,
      capabilities: capabilitiesOf({ ...target.capabilities, ...definedOnly({ vision: target.vision, tools: target.tools, json: target.json, context_window: target.context_window }) }),
      region: target.region,
      limits: target.limits,
    })),
    regions: route.regions,
    ...timing(route, defaults),
    ...resilience(route),
    breaker: breakerOverride(route.breaker),
    queue: { max: route.queue.max, timeoutMs: route.queue.timeout_ms },
  }));
  const breaker = config.breaker;
  // A probe's verdict comes when its response starts, which its attempt timeout bounds; a longer
  // lease would only leave a circuit stuck behind a prober that died.
  const probeLeaseMs = Math.max(defaultBreakerSettings.probeLeaseMs, ...routes.map((route) => route.attemptTimeoutMs + 5000));
  return {
    providers,
    routes,
    defaults,
    directAddressing: config.server.direct_addressing,
    region: config.server.region,
    breaker: {
      ...defaultBreakerSettings,
      failureThreshold: breaker.failure_threshold,
      windowMs: breaker.window_ms,
      failureRateThreshold: breaker.failure_rate,
      minimumRequests: breaker.minimum_requests,
      openMs: breaker.open_ms,
      maxOpenMs: breaker.max_open_ms,
      recoveryProbeMs: breaker.recovery_probe_ms,
      probeLeaseMs,
      slowCallCount: breaker.slow_call_count,
      slowCallFactor: breaker.slow_call_factor,
      slowCallMinMs: breaker.slow_call_min_ms,
    },
  };
}

/** A provider's keys with their names: the config's, or the key's index (`openai.0`). */
export function providerKeys(provider: ProviderConfig): Array<{ name: string; key: string }> {
  if (provider.api_keys) return provider.api_keys.map((entry, index) => (typeof entry === 'string' ? { name: String(index), key: entry } : entry));
  return provider.api_key !== undefined ? [{ name: '0', key: provider.api_key }] : [];
}

/** Declared capabilities in the engine's terms; undefined when nothing was declared. */
function capabilitiesOf(declared: { vision?: boolean; tools?: boolean; json?: boolean; context_window?: number }): TargetSettings['capabilities'] {
  const capabilities = definedOnly({ vision: declared.vision, tools: declared.tools, json: declared.json, contextWindow: declared.context_window });
  return Object.keys(capabilities).length > 0 ? capabilities : undefined;
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

type BreakerOverride = Partial<
  Record<'failure_threshold' | 'window_ms' | 'failure_rate' | 'minimum_requests' | 'open_ms' | 'max_open_ms' | 'recovery_probe_ms' | 'slow_call_count' | 'slow_call_factor' | 'slow_call_min_ms', number>
>;

/** A provider's or route's breaker overrides, in the engine's terms; only what was given. */
function breakerOverride(source: BreakerOverride | undefined): Partial<BreakerSettings> | undefined {
  if (!source) return undefined;
  const pairs: Array<[keyof BreakerSettings, number | undefined]> = [
    ['failureThreshold', source.failure_threshold],
    ['windowMs', source.window_ms],
    ['failureRateThreshold', source.failure_rate],
    ['minimumRequests', source.minimum_requests],
    ['openMs', source.open_ms],
    ['maxOpenMs', source.max_open_ms],
    ['recoveryProbeMs', source.recovery_probe_ms],
    ['slowCallCount', source.slow_call_count],
    ['slowCallFactor', source.slow_call_factor],
    ['slowCallMinMs', source.slow_call_min_ms],
  ];
  return Object.fromEntries(pairs.filter(([, value]) => value !== undefined));
}

function healthCheck(provider: ProviderConfig): HealthCheckSettings | undefined {
  const check = provider.health_check;
  if (!check?.enabled) return undefined;
  return {
    mode: check.mode,
    intervalMs: check.interval_ms,
    unhealthyIntervalMs: check.unhealthy_interval_ms,
    timeoutMs: check.timeout_ms,
    unhealthyThreshold: check.unhealthy_threshold,
    healthyThreshold: check.healthy_threshold,
    jitterRatio: 0.1,
  };
}

function budget(source: { ratio: number; min_per_window: number; window_ms: number }): RetryBudgetSettings {
  return { ...defaultRetryBudgetSettings, ratio: source.ratio, minPerWindow: source.min_per_window, windowMs: source.window_ms };
}

type Resilience = Pick<RouteSettings, 'strategy' | 'degradeTo' | 'waitForRecoveryMs' | 'retryBudget' | 'hedge' | 'mirror'>;

/** Routing and protection settings of a route (or the defaults for a `provider/model` address). */
export function resilience(route?: Partial<Pick<RouteConfig, 'strategy' | 'degrade_to' | 'wait_for_recovery_ms' | 'retry_budget' | 'hedge' | 'mirror'>>): Resilience {
  const hedge = route?.hedge;
  return {
    strategy: (route?.strategy ?? 'fallback') as StrategyName,
    degradeTo: route?.degrade_to,
    waitForRecoveryMs: route?.wait_for_recovery_ms ?? defaultWaitForRecoveryMs,
    retryBudget: route?.retry_budget ? budget(route.retry_budget) : { ...defaultRetryBudgetSettings },
    hedge: hedge
      ? { isEnabled: true, afterMs: hedge.after_ms, percentile: hedge.percentile, minSamples: hedge.min_samples, minDelayMs: hedge.min_delay_ms, budget: budget(hedge.budget) }
      : { ...defaultHedgeSettings, budget: { ...defaultRetryBudgetSettings, ratio: 0.1 } },
    mirror: route?.mirror && { provider: route.mirror.provider, model: route.mirror.model, sampleRate: route.mirror.sample_rate },
  };
}

type Timing = Pick<RouteSettings, 'retry' | 'timeoutMs' | 'attemptTimeoutMs' | 'firstTokenTimeoutMs' | 'streamIdleTimeoutMs' | 'onStreamFailure' | 'streamMinTokensPerS'>;

function timing(
  source: Partial<Pick<RouteConfig, 'retry' | 'timeout_ms' | 'attempt_timeout_ms' | 'first_token_timeout_ms' | 'stream_idle_timeout_ms' | 'on_stream_failure' | 'stream_min_tokens_per_s'>>,
  fallback: Timing | undefined,
): Timing {
  const base = fallback ?? builtInRouteDefaults;
  return {
    retry: source.retry ? { attempts: source.retry.attempts, backoffMs: source.retry.backoff_ms, maxBackoffMs: source.retry.max_backoff_ms } : base.retry,
    timeoutMs: source.timeout_ms ?? base.timeoutMs,
    attemptTimeoutMs: source.attempt_timeout_ms ?? base.attemptTimeoutMs,
    firstTokenTimeoutMs: source.first_token_timeout_ms ?? base.firstTokenTimeoutMs,
    streamIdleTimeoutMs: source.stream_idle_timeout_ms ?? base.streamIdleTimeoutMs,
    onStreamFailure: source.on_stream_failure ?? base.onStreamFailure,
    streamMinTokensPerS: source.stream_min_tokens_per_s ?? base.streamMinTokensPerS,
  };
}
