import type { Clock, Random, Timers } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import { toRuntimeSettings } from '../config/runtime.js';
import { toStateSettings } from '../config/state-schema.js';
import { ModelCatalog } from '../core/model-catalog.js';
import { Engine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { StoreStatus } from '../state/redis-status.js';
import type { StateStore } from '../state/state-store.js';
import type { EventBus } from '../core/events.js';
import type { UpstreamHttp } from '../engine/upstream-http.js';

export interface EngineBuildOptions {
  clock?: Clock | undefined;
  random?: Random | undefined;
  /** Schedules the engine's timeouts and backoffs, on the clock's time (tests may run both faster). */
  timers?: Timers | undefined;
  logger?: Logger | undefined;
  /** A reload's new engine runs on its predecessor's store, bus and connection pools: their state carries over. */
  shared?: { store: StateStore; events: EventBus; http: UpstreamHttp } | undefined;
}

export interface BuiltEngine {
  engine: Engine;
  /** Stops the engine and releases its state store. */
  close(): Promise<void>;
}

/**
 * The one way a config becomes an engine, for the server and the library alike: settings, the
 * price table, the state store (Redis when `state.store: redis`), request-body capture for
 * `log.bodies`. Resolves once the store is warm; an unreachable Redis means starting on local
 * state, never failing to start.
 */
export async function buildEngine(config: DetourConfig, options: EngineBuildOptions = {}): Promise<BuiltEngine> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const store = options.shared ? options.shared.store : await createStateStore(config, clock, logger);
  const prices = Object.fromEntries(
    Object.entries(config.prices).map(([model, price]) => [model, { price: { inputPerMillion: price.input_per_million, outputPerMillion: price.output_per_million, cachedInputPerMillion: price.cached_input_per_million } }]),
  );
  const engine = new Engine({
    ...toRuntimeSettings(config),
    clock,
    random: options.random,
    timers: options.timers,
    store,
    catalog: new ModelCatalog(prices),
    captureStreamBodies: config.log.enabled && config.log.bodies,
    upstreamLimits: { maxBodyBytes: config.server.max_upstream_body_bytes, maxEventBytes: config.server.max_upstream_event_bytes },
    events: options.shared?.events,
    http: options.shared?.http,
  });
  await store?.preload(engine.targets().map((target) => target.id));
  return {
    engine,
    async close() {
      await engine.close();
      await store?.close();
    },
  };
}

/** The Redis store when the config asks for one (the engine keeps its own memory store otherwise); its outages are logged once each. */
async function createStateStore(config: DetourConfig, clock: Clock, logger: Logger): Promise<StateStore | undefined> {
  const state = toStateSettings(config.state);
  if (state.store !== 'redis') return undefined;
  // Loaded only when asked for: a process on memory state never loads the Redis client.
  const { RedisStateStore } = await import('../state/redis-store.js');
  return new RedisStateStore({ ...state, clock, onStatusChange: (status) => logStoreStatus(logger, status) });
}

function logStoreStatus(logger: Logger, status: StoreStatus): void {
  if (status.mode === 'local-fallback') logger.warn({ state: status }, 'state store: Redis is unreachable or slow; deciding on local state until it answers again');
  else if (status.mode === 'redis') logger.info({ state: status }, 'state store: sharing state through Redis');
}
