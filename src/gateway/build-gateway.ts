import type { Clock, Random, Timers } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { Observability } from '../observability/observability.js';
import { logRequests } from '../observability/request-logging.js';
import type { TargetStateSource } from '../observability/target-state.js';
import { redactSecrets } from '../providers/shared/redact.js';
import { storeStatusOf, type StoreStatus } from '../state/redis-status.js';
import { buildEngine } from './build-engine.js';
import { ConfigReloader, type ReloadOutcome } from './config-reload.js';
import { GatewayCore } from './gateway-core.js';
import { buildFrontDoor, type FrontDoor } from './front-door.js';
import { secretsOf, toObservabilitySettings, topologyOf } from './observability-config.js';
import { providerLookup, toTracingSettings } from './telemetry-config.js';
import type { Tracing } from '../observability/tracing/tracing.js';

const storeModes = ['memory', 'connecting', 'redis', 'local-fallback'] as const;

export interface BuildGatewayOptions {
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  random?: Random | undefined;
  /** Schedules the engine's timeouts and backoffs on the clock's time (tests may run both faster). */
  timers?: Timers | undefined;
  /**
   * The server's observability (metrics, request log, statistics, SLOs, alerts, and the admin
   * endpoints, dashboard and status page over them). Loaded only when asked for: a library
   * gateway without it imports none of it.
   */
  observability?: false | { processMetrics?: boolean | undefined; targetState?: TargetStateSource | undefined };
  /** The address the server listens on, for the default `server.allowed_hosts`. */
  listenHost?: string | undefined;
  /** Makes the gateway reloadable: `load` reads and validates the config again (from its file). */
  reload?: { load(): DetourConfig } | undefined;
}

/** A gateway built from a config: the core, and what it runs on. */
export interface BuiltGateway {
  core: GatewayCore;
  engine: Engine;
  observability: Observability | undefined;
  /** Client keys, their store and the HTTP rules. */
  frontDoor: FrontDoor;
  /** Validates and swaps in the config again (SIGHUP, `server.watch_config`, `POST /admin/api/reload`), when built with `reload`. */
  reload?: (() => Promise<ReloadOutcome>) | undefined;
  /** Traces being exported, when `telemetry.otlp_endpoint` is set. */
  tracing: Tracing | undefined;
  /** Ends open event streams (dashboards), which would otherwise hold a transport's graceful close. */
  endStreams(): void;
  /** Ends event streams, stops observability, the engine and its state store. */
  close(): Promise<void>;
}

/**
 * The one way a config becomes a gateway, for the server and the library alike: the engine
 * (with its state store), the route table, and when asked for, observability wired to the
 * engine's events with the admin endpoints over it.
 */
export async function buildGateway(config: DetourConfig, options: BuildGatewayOptions = {}): Promise<BuiltGateway> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const built = await buildEngine(config, { clock, random: options.random, timers: options.timers, logger });
  const engine = built.engine;
  let observability: Observability | undefined;
  let frontDoor: FrontDoor;
  try {
    frontDoor = buildFrontDoor(config, engine, {
      clock,
      logger,
      listenHost: options.listenHost ?? config.server.host,
      // A library gateway without observability opens no file unless stored keys are asked for.
      isStoreWanted: config.auth.secret !== undefined || (Boolean(options.observability) && config.log.enabled),
      onBudgetAlert: (alert) => observability?.budgetAlert({ ...alert, keyName: alert.key.name }),
    });
  } catch (error) {
    await built.close();
    throw error;
  }
  const tracingSettings = toTracingSettings(config);
  const core = new GatewayCore({
    engine,
    clock,
    maxBodyBytes: config.server.max_body_bytes,
    maxJsonDepth: config.server.max_json_depth,
    logger,
    frontDoor,
    secrets: secretsOf(config),
    tracing: tracingSettings ? { sampleRatio: tracingSettings.sampleRatio, random: options.random ?? Math.random } : undefined,
  });
  // Loaded only when `telemetry.otlp_endpoint` is set: without it no OpenTelemetry code is imported and requests carry no trace work.
  let tracing: Tracing | undefined;
  if (tracingSettings) {
    const { startTracing } = await import('../observability/tracing/tracing.js');
    const secrets = secretsOf(config);
    tracing = startTracing(tracingSettings, { events: engine.events, clock, logger, redact: (text) => redactSecrets(text, secrets), providerOf: providerLookup(() => core.engine) });
  }
  let closeAdmin: (() => void) | undefined;
  let stopLogging: (() => void) | undefined;
  let reloader: ConfigReloader | undefined;
  const reload = (): Promise<ReloadOutcome> => (reloader ? reloader.reload() : Promise.resolve({ ok: false, problems: ['this gateway was not started from a config file'] }));
  if (options.observability) {
    let wired;
    try {
      wired = await wireObservability(config, core, { logger, clock, frontDoor, ...options.observability, reload: options.reload ? () => reload() : undefined });
    } catch (error) {
      // E.g. the request log is another running instance's: nothing may be left running.
      await tracing?.close();
      await frontDoor.close();
      await built.close();
      throw error;
    }
    observability = wired.observability;
    closeAdmin = wired.close;
  } else if (options.logger) {
    // Observability writes the request lines itself; without it, the logger alone is wired.
    stopLogging = logRequests(engine.events, options.logger);
  }
  if (options.reload) {
    const metrics = observability?.metrics;
    reloader = new ConfigReloader({
      config,
      load: options.reload.load,
      current: () => core.engine,
      swap: (next) => core.swapEngine(next),
      build: { clock, random: options.random, logger },
      logger,
      onReload: (outcome) => metrics?.configReloads.inc({ result: outcome.ok ? 'success' : 'failure' }),
    });
  }
  return {
    core,
    get engine() {
      return core.engine;
    },
    observability,
    tracing,
    frontDoor,
    reload: options.reload ? reload : undefined,
    endStreams: () => closeAdmin?.(),
    async close() {
      closeAdmin?.();
      stopLogging?.();
      await reloader?.settle();
      await observability?.close();
      // After every request has finished: their spans are built and sent before the process goes.
      await tracing?.close();
      // A reloaded engine shares the first one's store and pools: it is retired, the first one closes them.
      if (core.engine !== engine) await core.engine.retire();
      await frontDoor.close();
      await built.close();
    },
  };
}

interface ObservabilityWiring {
  logger: Logger;
  clock: Clock;
  processMetrics?: boolean | undefined;
  targetState?: TargetStateSource | undefined;
  frontDoor: FrontDoor;
  reload?: (() => Promise<ReloadOutcome>) | undefined;
}

async function wireObservability(config: DetourConfig, core: GatewayCore, wiring: ObservabilityWiring): Promise<{ observability: Observability; close(): void }> {
  // Loaded on demand: metrics, SQLite and alerting stay out of a process that did not ask for them.
  const [{ Observability }, { addAdminRoutes }] = await Promise.all([import('../observability/observability.js'), import('./admin/admin-routes.js')]);
  const engine = core.engine;
  const topology = topologyOf(engine.routes);
  const settings = toObservabilitySettings(config);
  const observability = new Observability(settings, {
    events: engine.events,
    topology,
    clock: wiring.clock,
    logger: wiring.logger,
    redact: (text) => redactSecrets(text, settings.secrets),
    targetState: wiring.targetState ?? { targets: () => core.engine.targets() },
    processMetrics: wiring.processMetrics,
  });
  const stateStatus = (): StoreStatus => storeStatusOf(engine.resilience.store);
  observability.metrics.onScrape(() => {
    const status = stateStatus();
    for (const mode of storeModes) observability.metrics.stateStoreMode.set({ mode }, status.mode === mode ? 1 : 0);
    observability.metrics.stateStoreFallbacks.set(status.fallbacks);
    for (const queue of core.engine.queueDepths()) {
      for (const [priority, depth] of Object.entries(queue.depth)) observability.metrics.queueDepth.set({ route: queue.route, priority }, depth);
    }
  });
  const admin = addAdminRoutes(core.routes, { observability, topology, adminToken: config.server.admin_token, stateStatus, clock: wiring.clock, frontDoor: wiring.frontDoor, reload: wiring.reload, queues: () => core.engine.queueDepths() });
  return { observability, close: () => admin.close() };
}
