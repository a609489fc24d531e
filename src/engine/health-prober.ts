import { adapterKeyOf } from '../providers/registry.js';
import { checkEmbeddingsAnswer, embeddingsUpstream } from './embeddings-call.js';
import type { EmbeddingsRequest } from '../providers/embeddings/index.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { HealthCheckSettings, Target } from '../core/settings.js';
import type { ProviderAdapter, UpstreamRequest, Usage } from '../providers/types.js';
import { tryParseJson } from '../providers/shared/json.js';
import type { Resilience } from './resilience.js';
import { decodedBody, readBoundedBody } from './upstream-body.js';
import type { UpstreamHttp } from './upstream-http.js';

export interface HealthProberOptions {
  resilience: Resilience;
  http: UpstreamHttp;
  adapters: Readonly<Record<string, ProviderAdapter>>;
  events: EventBus;
  clock: Clock;
  /** Every distinct target of the config's routes. */
  targets: readonly Target[];
  /** Whether some route of this target has no target that serves now (every circuit open). */
  isRouteDown?: ((target: Target) => boolean) | undefined;
  /** Whether the target runs in this instance's region: `nearest` routes want it back as soon as it answers. */
  isHome?: ((target: Target) => boolean) | undefined;
  /** Whether the target serves an embeddings route: its `completion` check embeds one word instead of chatting. */
  isEmbeddings?: ((target: Target) => boolean) | undefined;
}

/** One probed provider: its settings, its targets, and whether this instance holds its lease. */
interface ProbedProvider {
  name: string;
  settings: HealthCheckSettings;
  targets: Target[];
  isLeader: boolean;
  leaseTimer?: NodeJS.Timeout | undefined;
}

/**
 * Active health checks: a cheap probe per target on a jittered interval, only for providers
 * with `health_check`. With several instances, one lease per provider makes a single instance
 * the prober. The lease lasts half an interval and is renewed every quarter, so when a prober
 * dies without giving it up another instance takes over within one interval.
 */
export class HealthProber {
  private readonly checkTimers = new Map<string, NodeJS.Timeout>();
  private readonly providers: ProbedProvider[] = [];
  /** When each target's next check is due (epoch ms). */
  private readonly scheduled = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;
  private isStopped = false;

  constructor(private readonly options: HealthProberOptions) {
    const byName = new Map<string, ProbedProvider>();
    for (const target of options.targets) {
      const settings = target.provider.healthCheck;
      if (!settings) continue;
      let provider = byName.get(target.provider.name);
      if (!provider) {
        provider = { name: target.provider.name, settings, targets: [], isLeader: false };
        byName.set(provider.name, provider);
        this.providers.push(provider);
      }
      provider.targets.push(target);
    }
  }

  start(): void {
    for (const provider of this.providers) void this.renewLease(provider);
    // A route that just went down has its open circuits checked at the recovery cadence from now on.
    this.unsubscribe = this.options.events.on('circuit.opened', () => {
      for (const provider of this.providers) {
        if (!provider.isLeader) continue;
        for (const target of provider.targets) {
          const at = this.recoveryCheckAt(target);
          if (at !== undefined) this.scheduleCheck(target, Math.min(at, this.scheduled.get(target.id) ?? Infinity));
        }
      }
    });
  }

  /** While a route of `target` is down and its circuit open, the next check is due one recovery interval from now. */
  private recoveryCheckAt(target: Target): number | undefined {
    const breakers = this.options.resilience.breakers;
    if (breakers.admission(target.id) === 'pass' || !this.options.isRouteDown?.(target)) return undefined;
    return this.options.clock.now() + this.options.resilience.breakerSettingsFor(target.id).recoveryProbeMs;
  }

  private isHomeAndOpen(target: Target): boolean {
    return this.options.isHome?.(target) === true && this.options.resilience.breakers.admission(target.id) !== 'pass';
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    this.unsubscribe?.();
    for (const timer of this.checkTimers.values()) clearTimeout(timer);
    this.checkTimers.clear();
    for (const provider of this.providers) clearTimeout(provider.leaseTimer);
    await Promise.all(this.providers.filter((provider) => provider.isLeader).map((provider) => this.options.resilience.health.stepDown(provider.name)));
  }

  /** Takes or renews the provider's lease; a new leader picks up the shared check cadence, a lost lead stops checking. */
  private async renewLease(provider: ProbedProvider): Promise<void> {
    const interval = provider.settings.intervalMs;
    const isLeader = await this.options.resilience.health.tryLead(provider.name, Math.max(1, Math.ceil(interval / 2)));
    if (this.isStopped) return;
    if (isLeader && !provider.isLeader) {
      // Health state is shared, so the cadence goes on from the last check, whoever made it.
      for (const target of provider.targets) this.scheduleCheck(target, this.options.resilience.health.nextCheckAt(target.id));
    } else if (!isLeader && provider.isLeader) {
      for (const target of provider.targets) clearTimeout(this.checkTimers.get(target.id));
    }
    provider.isLeader = isLeader;
    provider.leaseTimer = setTimeout(() => void this.renewLease(provider), Math.max(1, Math.floor(interval / 4)));
    provider.leaseTimer.unref();
  }

  private scheduleCheck(target: Target, at: number): void {
    if (this.isStopped) return;
    clearTimeout(this.checkTimers.get(target.id));
    const timer = setTimeout(() => void this.check(target), Math.max(0, at - this.options.clock.now()));
    timer.unref();
    this.checkTimers.set(target.id, timer);
    this.scheduled.set(target.id, at);
  }

  private async check(target: Target): Promise<void> {
    const provider = this.providers.find((candidate) => candidate.name === target.provider.name);
    if (!provider?.isLeader || this.isStopped) return;
    const result = await this.probe(target, provider.settings);
    if (this.isStopped) return;
    const tracker = this.options.resilience.health;
    await tracker.record(target.id, result);
    const recoveryAt = this.recoveryCheckAt(target);
    // A passed check of an open circuit on a down route lets the next request probe it at once; so
    // does one of a home-region target, so that traffic returns home as soon as its region is back.
    if (result.isHealthy && (recoveryAt !== undefined || this.isHomeAndOpen(target))) await this.options.resilience.breakers.expediteProbe(target.id);
    if (provider.isLeader) this.scheduleCheck(target, Math.min(tracker.nextCheckAt(target.id), recoveryAt ?? Infinity));
  }

  /** One probe: the models list by default (no tokens), or a one-token completion. */
  private async probe(target: Target, settings: HealthCheckSettings): Promise<{ isHealthy: boolean; error?: string }> {
    const adapter = this.options.adapters[adapterKeyOf(target.provider)];
    if (!adapter) return { isHealthy: false, error: `no adapter for ${target.provider.type}` };
    // An embedding model cannot chat: its `completion` check embeds one word.
    const ping = settings.mode === 'completion' && this.options.isEmbeddings?.(target) ? pingEmbeddings(target) : undefined;
    const request: UpstreamRequest = ping
      ? embeddingsUpstream(ping, target)
      : settings.mode === 'completion'
        ? adapter.buildRequest({ model: target.model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }, target, { stream: false, wantStreamUsage: false })
        : adapter.buildProbe(target);
    const startedAt = this.options.clock.now();
    let isHealthy = false;
    let error: string | undefined;
    let text = '';
    try {
      const response = await this.options.http.send(request, AbortSignal.timeout(settings.timeoutMs));
      text = (await readBoundedBody(decodedBody(response, target.id), this.options.http.limits.maxBodyBytes, target.id)).toString('utf8');
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
      usage: settings.mode === 'completion' && isHealthy ? (ping ? embeddingsUsage(ping, text, target) : adapter.readUsage(tryParseJson(text))) : undefined,
      error,
    });
    return error === undefined ? { isHealthy } : { isHealthy, error };
  }
}

/** A health check's embeddings call: one word, in floats. */
function pingEmbeddings(target: Target): EmbeddingsRequest {
  return { route: target.model, inputs: ['ping'], encoding: 'float', body: { model: target.model, input: 'ping' } };
}

/** What an embeddings check spent, read from its answer (the probe's spend is counted like any other). */
function embeddingsUsage(ping: EmbeddingsRequest, text: string, target: Target): Usage | undefined {
  try {
    return checkEmbeddingsAnswer(ping, tryParseJson(text), target).usage;
  } catch {
    return undefined;
  }
}
