import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { HealthCheckSettings, Target } from '../core/settings.js';
import type { ProviderAdapter, UpstreamRequest } from '../providers/types.js';
import { tryParseJson } from '../providers/shared/json.js';
import type { Resilience } from './resilience.js';
import type { UpstreamHttp } from './upstream-http.js';

export interface HealthProberOptions {
  resilience: Resilience;
  http: UpstreamHttp;
  adapters: Readonly<Record<string, ProviderAdapter>>;
  events: EventBus;
  clock: Clock;
  /** Every distinct target of the config's routes. */
  targets: readonly Target[];
}

/**
 * Active health checks: a cheap probe per target on a jittered interval, only for providers
 * with `health_check`. With several instances, one lease per provider makes a single instance
 * the prober; the others check the lease each interval and take over when it lapses.
 */
export class HealthProber {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private isStopped = false;

  constructor(private readonly options: HealthProberOptions) {}

  start(): void {
    for (const target of this.options.targets) {
      if (target.provider.healthCheck) this.schedule(target, this.options.resilience.health.nextCheckAt(target.id));
    }
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const providers = new Set(this.options.targets.filter((target) => target.provider.healthCheck).map((target) => target.provider.name));
    await Promise.all([...providers].map((name) => this.options.resilience.health.stepDown(name)));
  }

  private schedule(target: Target, at: number): void {
    if (this.isStopped) return;
    const timer = setTimeout(() => void this.check(target), Math.max(0, at - this.options.clock.now()));
    timer.unref();
    this.timers.set(target.id, timer);
  }

  private async check(target: Target): Promise<void> {
    const settings = target.provider.healthCheck as HealthCheckSettings;
    const tracker = this.options.resilience.health;
    // The lease outlives two intervals, so it lapses only when its holder is gone.
    const isLeader = await tracker.tryLead(target.provider.name, 2 * settings.intervalMs + settings.timeoutMs);
    if (this.isStopped) return;
    if (!isLeader) {
      this.schedule(target, this.options.clock.now() + settings.intervalMs);
      return;
    }
    const result = await this.probe(target, settings);
    if (this.isStopped) return;
    await tracker.record(target.id, result);
    this.schedule(target, tracker.nextCheckAt(target.id));
  }

  /** One probe: the models list by default (no tokens), or a one-token completion. */
  private async probe(target: Target, settings: HealthCheckSettings): Promise<{ isHealthy: boolean; error?: string }> {
    const adapter = this.options.adapters[target.provider.type];
    if (!adapter) return { isHealthy: false, error: `no adapter for ${target.provider.type}` };
    const request: UpstreamRequest =
      settings.mode === 'completion'
        ? adapter.buildRequest({ model: target.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }, target, { stream: false, wantStreamUsage: false })
        : adapter.buildProbe(target);
    const startedAt = this.options.clock.now();
    let isHealthy = false;
    let error: string | undefined;
    let text = '';
    try {
      const response = await this.options.http.send(request, AbortSignal.timeout(settings.timeoutMs));
      text = await response.body.text();
      // A rate limit means the target answers: its breaker deals with the limit, not its health.
      isHealthy = response.statusCode < 400 || response.statusCode === 429;
      if (!isHealthy) error = `HTTP ${response.statusCode}`;
    } catch (caught) {
      error = caught instanceof Error ? (caught.name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : caught.message) : String(caught);
    }
    this.options.events.emit('health.probed', {
      target: target.id,
      provider: target.provider.name,
      model: target.model,
      mode: settings.mode,
      isHealthy,
      durationMs: this.options.clock.now() - startedAt,
      usage: settings.mode === 'completion' && isHealthy ? adapter.readUsage(tryParseJson(text)) : undefined,
      error,
    });
    return error === undefined ? { isHealthy } : { isHealthy, error };
  }
}
