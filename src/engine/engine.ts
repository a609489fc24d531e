import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BreakerSettings } from '../core/breaker.js';
import { defaultBreakerSettings } from '../core/breaker.js';
import type { RequestNeeds } from '../core/capabilities.js';
import type { Clock, Random, Timers } from '../core/clock.js';
import { systemClock, systemRandom, systemTimers } from '../core/clock.js';
import { DetourError } from '../core/errors.js';
import { EventBus } from '../core/events.js';
import { ModelCatalog } from '../core/model-catalog.js';
import { requestNeeds, type NeedsSource } from '../core/request-needs.js';
import { isWithinRegions } from '../core/regions.js';
import type { TraceContext } from '../core/trace-context.js';
import type { ProviderSettings, RouteSettings, Target } from '../core/settings.js';
import type { Priority } from '../core/wait-queue.js';
import { adapters as builtInAdapters } from '../providers/registry.js';
import type { ChatRequest, ForwardedParts, ProviderAdapter, WireFormat } from '../providers/types.js';
import type { EmbeddingsRequest } from '../providers/embeddings/index.js';
import type { RawJson } from '../providers/shared/raw-json.js';
import { MemoryStateStore } from '../state/memory-store.js';
import type { StateStore } from '../state/state-store.js';
import { CapacityQueues, type QueueDepth } from './capacity-queue.js';
import { HealthProber } from './health-prober.js';
import { Mirror } from './mirror.js';
import { Planner } from './plan.js';
import { RecoveryWaiters } from './recovery-waiters.js';
import { RequestRun } from './request-run.js';
import { Resilience } from './resilience.js';
import type { EngineResult } from './result.js';
import { RouteTable, type ResolvedRoute, type RouteDefaults } from './route-table.js';
import type { RunOutcome } from './run-state.js';
import { TargetLimiter } from './target-limits.js';
import { targetSnapshot, type TargetSnapshot } from './target-snapshot.js';
import { connectionCaps, UpstreamHttp, type UpstreamLimits } from './upstream-http.js';
import type { AbortSource } from '../core/abort-source.js';

export interface EngineOptions {
  providers: readonly ProviderSettings[];
  routes: readonly RouteSettings[];
  defaults: RouteDefaults;
  breaker?: BreakerSettings;
  /** Where circuits, health and statistics live; in this process's memory by default. */
  store?: StateStore;
  catalog?: ModelCatalog;
  clock?: Clock;
  random?: Random;
  /** Schedules timeouts, backoffs and hedge delays on the clock's time (the system's by default). */
  timers?: Timers | undefined;
  http?: UpstreamHttp;
  adapters?: Readonly<Record<string, ProviderAdapter>>;
  /** The least time worth giving an attempt; no attempt or backoff starts that would leave less. */
  minAttemptMs?: number;
  /** Start active health checks (default true); tests of other things may leave them off. */
  healthChecks?: boolean;
  /** This instance's name in a cluster (probe holders, health leases). */
  instanceId?: string;
  /** Keep each streamed answer's text for the request log (`log.bodies: true`); off, streams keep nothing. */
  captureStreamBodies?: boolean;
  /** Let `provider/model` address a listed model directly (`server.direct_addressing`). */
  directAddressing?: boolean;
  /** The event bus to emit on; a new one by default. */
  events?: EventBus;
  /** Size caps on what upstreams send (when the engine builds its own `http`). */
  upstreamLimits?: Partial<UpstreamLimits>;
  /** This instance's region (`server.region`, `DETOUR_REGION`): the `nearest` strategy's home. */
  region?: string | undefined;
}

/**
 * One client request as the engine receives it: parsed and validated by the gateway. The engine
 * sees the body (passed through to a target of the client's format) and its canonical form
 * (for any other), never the client's codec.
 */
export interface EngineRequest {
  id: string;
  /** The client's wire format: a target speaking it gets the body as it is. */
  format: WireFormat;
  /** The client's body, validated, in its format. */
  body: Record<string, unknown>;
  /** The body as a canonical request, translated on the first call only (the same object after): called only when something needs it (translation, capabilities, a mirror). */
  toCanonical(): ChatRequest;
  route: string;
  stream: boolean;
  wantsUsage: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSource;
  receivedAt: number;
  /** Size of the body as received, in bytes; absent for an in-process value, whose needs are then always estimated. */
  bodyBytes?: number | undefined;
  /** The body's own text, when it says exactly what `body` says (asked once, by a same-format upstream): it gets the text with the model replaced. */
  raw?: (() => RawJson | undefined) | undefined;
  clientKeyId?: string | undefined;
  /** What of the client's own request goes on to a same-format upstream. */
  forward?: ForwardedParts | undefined;
  /**
   * The client key's binding to upstream keys (`provider.key-name`): a provider named here is
   * used only with these keys; others as usual. Absent: every key.
   */
  upstreamKeys?: readonly string[] | undefined;
  /**
   * The request's trace context: each upstream call carries a `traceparent` (its own span's when
   * `trace.spanId` is set, i.e. Detour records spans; the caller's as it came otherwise).
   */
  trace?: TraceContext | undefined;
  /**
   * An embeddings call (`POST /v1/embeddings`), validated: served only by routes of
   * `kind: embeddings`, through each target's embeddings face. Absent: a chat request.
   */
  embeddings?: EmbeddingsRequest | undefined;
  /** `x-detour-priority`: the order this request leaves the route's queue in; `normal` when absent. */
  priority?: Priority | undefined;
}

/** One route's queue now: its bounds, who waits, and how long the last ones waited. */
export interface QueueState {
  route: string;
  max: number;
  timeoutMs: number;
  depth: QueueDepth;
  waits: { count: number; p50Ms: number | null; p95Ms: number | null };
}

/** Everything a request run needs from the engine; shared by all runs. */
export interface EngineContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly timers: Timers;
  readonly http: UpstreamHttp;
  readonly adapters: Readonly<Record<string, ProviderAdapter>>;
  readonly events: EventBus;
  readonly minAttemptMs: number;
  readonly resilience: Resilience;
  readonly planner: Planner;
  readonly captureStreamBodies: boolean;
  /** Requests waiting for a down route to recover. */
  readonly recoveryWaiters: RecoveryWaiters;
  /** Per-target rate limits, declared and learned. */
  readonly limiter: TargetLimiter;
  /** Each route's queue of requests waiting for room under its targets' limits. */
  readonly queues: CapacityQueues;
  needsOf(source: NeedsSource): RequestNeeds;
}

/**
 * Executes requests: route → plan → attempt loop (→ degraded route). The only layer that
 * performs upstream I/O; it reports what it decides through `events` and never calls
 * observability directly.
 */
export class Engine {
  readonly events: EventBus;
  readonly routes: RouteTable;
  readonly resilience: Resilience;
  private readonly context: EngineContext;
  private readonly ownsHttp: boolean;
  private readonly ownsStore: boolean;
  private readonly prober: HealthProber;
  private readonly mirrors = new Map<string, Mirror>();
  /** This instance's region, if declared. */
  readonly homeRegion: string | undefined;
  private readonly offFreed: () => void;

  constructor(options: EngineOptions) {
    // A reloaded engine speaks on its predecessor's bus, so that every listener (observability) carries over.
    this.events = options.events ?? new EventBus();
    this.routes = new RouteTable(options.providers, options.routes, options.defaults, options.directAddressing ?? false);
    this.ownsHttp = options.http === undefined;
    this.ownsStore = options.store === undefined;
    const clock = options.clock ?? systemClock;
    const random = options.random ?? systemRandom;
    const catalog = options.catalog ?? new ModelCatalog();
    const store = options.store ?? new MemoryStateStore({ clock });
    const targets = this.distinctTargets();
    const healthById = new Map(targets.map((target) => [target.id, target.provider.healthCheck]));
    const globalBreaker = options.breaker ?? defaultBreakerSettings;
    const breakerById = new Map<string, BreakerSettings>();
    // A target's breaker: the global settings, then its provider's, then its (first) route's.
    for (const route of this.routes.all()) {
      for (const group of route.groups) {
        for (const target of group.targets) {
          if (breakerById.has(target.id) || (!target.provider.breaker && !route.settings.breaker)) continue;
          breakerById.set(target.id, { ...globalBreaker, ...target.provider.breaker, ...route.settings.breaker });
        }
      }
    }
    // A provider's keys of one model share its latency: a slow verdict on one key holds for its siblings.
    const keysOfModel = new Map<string, string[]>();
    for (const target of targets) {
      const group = `${target.provider.name}\u0000${target.model}`;
      keysOfModel.set(group, [...(keysOfModel.get(group) ?? []), target.id]);
    }
    const siblingsById = new Map(targets.map((target) => [target.id, (keysOfModel.get(`${target.provider.name}\u0000${target.model}`) ?? []).filter((id) => id !== target.id)]));
    this.resilience = new Resilience({
      store,
      clock,
      timers: options.timers ?? systemTimers,
      siblingsOf: (id) => siblingsById.get(id) ?? [],
      random,
      events: this.events,
      breaker: globalBreaker,
      breakerFor: (id) => breakerById.get(id),
      catalog,
      instanceId: options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      healthSettingsFor: (id) => healthById.get(id),
    });
    const http = options.http ?? new UpstreamHttp({ limits: options.upstreamLimits, maxConnectionsByOrigin: connectionCaps(options.providers) });
    const adapters = options.adapters ?? builtInAdapters;
    const timers = options.timers ?? systemTimers;
    const limiter = new TargetLimiter({ store, clock });
    for (const target of targets) limiter.declare(target, target.settings.limits || target.provider.limits ? { ...target.provider.limits, ...target.settings.limits } : undefined);
    const queues = new CapacityQueues();
    this.offFreed = limiter.onFreed((targetId) => queues.wakeFor(targetId));
    this.context = {
      clock,
      random,
      timers,
      http,
      adapters,
      events: this.events,
      minAttemptMs: options.minAttemptMs ?? 50,
      resilience: this.resilience,
      planner: new Planner({ resilience: this.resilience, catalog, clock, random, homeRegion: options.region }),
      needsOf: requestNeeds,
      captureStreamBodies: options.captureStreamBodies ?? false,
      recoveryWaiters: new RecoveryWaiters(store, timers),
      limiter,
      queues,
    };
    for (const route of this.routes.all()) {
      const mirror = route.settings.mirror;
      const provider = mirror && options.providers.find((candidate) => candidate.name === mirror.provider);
      // A mirror outside a restricted route's regions would carry its requests out of them: never built.
      if (mirror && provider && isWithinRegions(provider, route.settings.regions)) {
        const target: Target = { id: `${provider.name}/${mirror.model}`, provider, model: mirror.model, apiKey: provider.apiKeys[0] ?? '', keyIndex: 0, settings: { provider: provider.name, model: mirror.model, weight: 1 }, region: provider.region };
        this.mirrors.set(route.settings.name, new Mirror(this.context, target, mirror, route.settings.attemptTimeoutMs));
      }
    }
    this.homeRegion = options.region;
    const embeddingsTargets = new Set(
      this.routes
        .all()
        .filter((route) => route.settings.kind === 'embeddings')
        .flatMap((route) => route.groups.flatMap((group) => group.targets.map((target) => target.id))),
    );
    this.prober = new HealthProber({
      resilience: this.resilience,
      http,
      adapters,
      events: this.events,
      clock,
      targets,
      isRouteDown: (target) => this.isRouteDown(target),
      isHome: (target) => target.region !== undefined && target.region === this.homeRegion,
      isEmbeddings: (target) => embeddingsTargets.has(target.id),
    });
    if (options.healthChecks !== false) this.prober.start();
  }

  async handle(request: EngineRequest): Promise<EngineResult> {
    const route = this.routes.resolve(request.route);
    if (!route) {
      const known = this.routes.names();
      throw new DetourError({
        kind: 'fatal',
        code: 'ROUTE_NOT_FOUND',
        status: 404,
        param: 'model',
        message: `The model "${request.route}" is not a route of this gateway. Available routes: ${known.join(', ') || '(none)'}${this.routes.isDirectAddressingOn ? '; or address a listed model directly as "provider/model"' : ''}.`,
      });
    }
    checkRouteKind(route, request);
    const degradeTo = route.settings.degradeTo === undefined ? undefined : this.degradeRouteOf(route);
    const run = new RequestRun(this.context, request, route, { isDegraded: false, priorAttempts: [], mayDegrade: degradeTo !== undefined });
    let outcome = await run.execute();
    if (outcome.isAllFailed && degradeTo) {
      // Every target failed: a cheaper or faster route answers instead, and says so.
      outcome = await new RequestRun(this.context, request, degradeTo, { isDegraded: true, priorAttempts: run.attempts, mayDegrade: false }).execute();
    }
    this.mirror(route.settings.name, request, outcome);
    return outcome.result;
  }

  /** The route a route degrades to, unless it would leave the regions the route is restricted to (`detour check` refuses that config). */
  private degradeRouteOf(route: ResolvedRoute): ResolvedRoute | undefined {
    const degradeTo = route.settings.degradeTo === undefined ? undefined : this.routes.resolve(route.settings.degradeTo);
    if (!degradeTo || route.settings.regions === undefined) return degradeTo;
    const isInside = degradeTo.groups.every((group) => group.targets.every((target) => isWithinRegions(target, route.settings.regions)));
    return isInside ? degradeTo : undefined;
  }

  /** Every distinct target of this engine's routes, by id. */
  targetsById(): Map<string, Target> {
    return new Map(this.distinctTargets().map((target) => [target.id, target]));
  }

  /** Every target's live state: circuit, cooldown, health, latency, success rate, in-flight, rate-limit headroom. */
  targets(): TargetSnapshot[] {
    const now = this.context.clock.now();
    return this.distinctTargets().map((target) => targetSnapshot(target, this.resilience.store, now, this.context.limiter.headroom(target.id)));
  }

  /** Every route's queue now: requests waiting by priority, and waiting for recovery. */
  queueDepths(): QueueState[] {
    return this.context.queues.all().map((queue) => ({ route: queue.route, max: queue.settings.max, timeoutMs: queue.settings.timeoutMs, depth: queue.depth(), waits: queue.waits() }));
  }

  /** The connection pools this engine calls upstreams through (shared with its successor on a reload). */
  get upstreamHttp(): UpstreamHttp {
    return this.context.http;
  }

  /**
   * Stops what this engine runs by itself (health checks, breaker listeners) but leaves the
   * store and connection pools it may share with a successor: a reloaded-away engine.
   */
  async retire(): Promise<void> {
    this.offFreed();
    await this.prober.stop();
    this.resilience.dispose();
  }

  async close(): Promise<void> {
    this.offFreed();
    await this.prober.stop();
    this.context.recoveryWaiters.dispose();
    this.resilience.dispose();
    if (this.ownsStore) await this.resilience.store.close();
    if (this.ownsHttp) await this.context.http.close();
  }

  private mirror(routeName: string, request: EngineRequest, outcome: RunOutcome): void {
    const mirror = this.mirrors.get(routeName);
    const target = outcome.result.meta.target;
    // A mirror compares chat answers; vectors have no text to compare.
    if (!mirror || !target || outcome.result.status >= 400 || request.embeddings) return;
    mirror.maybeSend(() => request.toCanonical(), {
      requestId: request.id,
      route: routeName,
      target: target.id,
      latencyMs: this.context.clock.now() - request.receivedAt,
      text: outcome.servedText ?? (() => undefined),
    });
  }

  /** Whether some route holding `target` has no target that takes traffic now. */
  private isRouteDown(target: Target): boolean {
    const breakers = this.resilience.breakers;
    return this.routes
      .all()
      .some((route) => route.groups.some((group) => group.targets.some((candidate) => candidate.id === target.id)) && route.groups.every((group) => group.targets.every((other) => breakers.admission(other.id) !== 'pass')));
  }

  private distinctTargets(): Target[] {
    const seen = new Map<string, Target>();
    for (const route of this.routes.all()) for (const group of route.groups) for (const target of group.targets) if (!seen.has(target.id)) seen.set(target.id, target);
    return [...seen.values()];
  }
}

/**
 * A route serves one kind of call: chat (completions, messages, responses) or embeddings. The
 * other kind is the client's mistake, refused before any upstream call; a directly addressed
 * `provider/model` serves either.
 */
function checkRouteKind(route: ResolvedRoute, request: EngineRequest): void {
  const kind = route.settings.kind ?? 'chat';
  const asked = request.embeddings ? 'embeddings' : 'chat';
  if (route.isDirect || kind === asked) return;
  const name = route.settings.name;
  throw new DetourError({
    kind: 'fatal',
    code: 'WRONG_ROUTE_KIND',
    status: 400,
    param: 'model',
    message:
      kind === 'embeddings'
        ? `The model "${name}" is an embeddings route (kind: embeddings): call POST /v1/embeddings with it, not a chat endpoint.`
        : `The model "${name}" is a chat route: embeddings need a route of kind: embeddings.`,
  });
}
