import type { RetryPolicy } from '../core/backoff.js';
import type { ProviderSettings, RouteSettings } from '../core/settings.js';
import type { DetourConfig, RouteConfig } from './schema.js';

/** Route timing when neither the route nor `defaults` says otherwise. */
export const builtInRouteDefaults = {
  retry: { attempts: 2, backoffMs: 200, maxBackoffMs: 5000 } satisfies RetryPolicy,
  timeoutMs: 60_000,
  attemptTimeoutMs: 30_000,
  firstTokenTimeoutMs: 10_000,
  streamIdleTimeoutMs: 30_000,
};

export interface RuntimeSettings {
  providers: ProviderSettings[];
  routes: RouteSettings[];
  defaults: Omit<RouteSettings, 'name' | 'targets'>;
}

/** Maps the YAML's snake_case config onto the engine's settings. */
export function toRuntimeSettings(config: DetourConfig): RuntimeSettings {
  const defaults = timing(config.defaults, undefined);
  const providers: ProviderSettings[] = Object.entries(config.providers).map(([name, provider]) => ({
    name,
    type: provider.type,
    baseUrl: provider.base_url,
    apiKeys: provider.api_keys ?? (provider.api_key !== undefined ? [provider.api_key] : []),
    headers: provider.headers,
    options: {
      api_version: provider.api_version,
      anthropic_version: provider.anthropic_version,
      stream_usage: provider.stream_usage,
    },
  }));
  const routes: RouteSettings[] = Object.entries(config.models).map(([name, route]) => ({
    name,
    targets: route.targets.map((target) => ({ provider: target.provider, model: target.model, weight: target.weight, maxTokens: target.max_tokens })),
    ...timing(route, defaults),
  }));
  return { providers, routes, defaults };
}

type Timing = Omit<RouteSettings, 'name' | 'targets'>;

function timing(source: Partial<Pick<RouteConfig, 'retry' | 'timeout_ms' | 'attempt_timeout_ms' | 'first_token_timeout_ms' | 'stream_idle_timeout_ms'>>, fallback: Timing | undefined): Timing {
  const base = fallback ?? builtInRouteDefaults;
  return {
    retry: source.retry ? { attempts: source.retry.attempts, backoffMs: source.retry.backoff_ms, maxBackoffMs: source.retry.max_backoff_ms } : base.retry,
    timeoutMs: source.timeout_ms ?? base.timeoutMs,
    attemptTimeoutMs: source.attempt_timeout_ms ?? base.attemptTimeoutMs,
    firstTokenTimeoutMs: source.first_token_timeout_ms ?? base.firstTokenTimeoutMs,
    streamIdleTimeoutMs: source.stream_idle_timeout_ms ?? base.streamIdleTimeoutMs,
  };
}
