import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock, Random } from '../core/clock.js';
import { systemClock, systemRandom } from '../core/clock.js';
import { DetourError } from '../core/errors.js';
import type { ProviderSettings, RouteSettings } from '../core/settings.js';
import { adapters as builtInAdapters } from '../providers/registry.js';
import type { IngressCodec, ProviderAdapter } from '../providers/types.js';
import { EventBus } from '../core/events.js';
import { Planner } from './plan.js';
import { RequestRun } from './request-run.js';
import type { EngineResult } from './result.js';
import { RouteTable, type RouteDefaults } from './route-table.js';
import { UpstreamHttp } from './upstream-http.js';

export interface EngineOptions {
  providers: readonly ProviderSettings[];
  routes: readonly RouteSettings[];
  defaults: RouteDefaults;
  clock?: Clock;
  random?: Random;
  http?: UpstreamHttp;
  adapters?: Readonly<Record<string, ProviderAdapter>>;
  /** The least time worth giving an attempt; no attempt or backoff starts that would leave less. */
  minAttemptMs?: number;
}

/** One client request as the engine receives it: already parsed and validated by the server. */
export interface EngineRequest {
  id: string;
  codec: IngressCodec;
  /** The client's body, validated, in the codec's format. */
  body: Record<string, unknown>;
  route: string;
  stream: boolean;
  wantsUsage: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  receivedAt: number;
  clientKeyId?: string | undefined;
}

/** Everything a request run needs from the engine; shared by all runs. */
export interface EngineContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly http: UpstreamHttp;
  readonly adapters: Readonly<Record<string, ProviderAdapter>>;
  readonly events: EventBus;
  readonly minAttemptMs: number;
  wait(ms: number, signal: AbortSignal): Promise<void>;
}

/**
 * Executes requests: route → plan → attempt loop. The only layer that performs upstream I/O;
 * it reports what it decides through `events` and never calls observability directly.
 */
export class Engine {
  readonly events = new EventBus();
  readonly routes: RouteTable;
  private readonly context: EngineContext;
  private readonly planner = new Planner();
  private readonly ownsHttp: boolean;

  constructor(options: EngineOptions) {
    this.routes = new RouteTable(options.providers, options.routes, options.defaults);
    this.ownsHttp = options.http === undefined;
    this.context = {
      clock: options.clock ?? systemClock,
      random: options.random ?? systemRandom,
      http: options.http ?? new UpstreamHttp(),
      adapters: options.adapters ?? builtInAdapters,
      events: this.events,
      minAttemptMs: options.minAttemptMs ?? 50,
      wait: (ms, signal) => sleep(ms, undefined, { signal }),
    };
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
        message: `The model "${request.route}" is not a route of this gateway. Available routes: ${known.join(', ') || '(none)'}; or address a target directly as "provider/model".`,
      });
    }
    return new RequestRun(this.context, request, route, this.planner.plan(route)).execute();
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.context.http.close();
  }
}
