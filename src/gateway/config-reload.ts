import type { DetourConfig } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import { initialBreakerState } from '../core/breaker.js';
import { initialHealthState } from '../core/health.js';
import type { Target } from '../core/settings.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../observability/logger.js';
import { buildEngine, type EngineBuildOptions } from './build-engine.js';

/** What one reload did. */
export type ReloadOutcome =
  | { ok: true; routes: string[]; changedTargets: string[]; restartRequired: string[] }
  | { ok: false; problems: readonly string[] };

export interface ConfigReloaderOptions {
  /** The config now served. */
  config: DetourConfig;
  /** Reads and validates the new config: throws `ConfigError` with the same problems `detour check` prints. */
  load(): DetourConfig;
  /** The engine now serving. */
  current(): Engine;
  /** Makes `engine` serve every request from now on; requests already running keep theirs. */
  swap(engine: Engine): void;
  build: EngineBuildOptions;
  logger: Logger;
  /** Told of every reload, for the metrics. */
  onReload?: ((outcome: ReloadOutcome) => void) | undefined;
}

/** Parts of a config only a restart can change (listening sockets, the store, the log file, the trace exporter). */
const restartOnlyKeys = ['server.host', 'server.port', 'server.admin_token', 'state', 'log', 'alerts', 'telemetry'] as const;

/**
 * Reloads the config (SIGHUP, `server.watch_config`, `POST /admin/api/reload`): the new config
 * is validated first and an invalid one is refused, logged and counted, the old one staying.
 * A valid one becomes a new engine on the same state store, event bus and connection pools,
 * swapped in at once: requests in flight finish on the engine (and config) they started on,
 * and breaker, health and statistics state carries over for every target whose definition did
 * not change (a target whose URL, key, headers or type changed starts afresh).
 */
export class ConfigReloader {
  private config: DetourConfig;
  private running: Promise<ReloadOutcome> | undefined;
  private readonly retired = new Set<Promise<void>>();

  constructor(private readonly options: ConfigReloaderOptions) {
    this.config = options.config;
  }

  /** One reload at a time: a call during a reload shares its outcome. */
  reload(): Promise<ReloadOutcome> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Waits for engines reloaded away to be retired (shutdown). */
  async settle(): Promise<void> {
    await this.running?.catch(() => undefined);
    await Promise.all(this.retired);
  }

  private async run(): Promise<ReloadOutcome> {
    const { logger } = this.options;
    let next: DetourConfig;
    try {
      next = this.options.load();
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems : [error instanceof Error ? error.message : String(error)];
      logger.error({ problems }, 'config reload refused: the new config is invalid; the running config stays');
      return this.report({ ok: false, problems });
    }
    const previous = this.options.current();
    const store = previous.resilience.store;
    const built = await buildEngine(next, { ...this.options.build, shared: { store, events: previous.events, http: previous.upstreamHttp } });
    const changedTargets = changedDefinitions(previous.targetsById(), built.engine.targetsById());
    // A target that now means another upstream must not inherit the old one's verdicts.
    await Promise.all(
      changedTargets.flatMap((id) => [store.transitionBreaker(id, () => initialBreakerState), store.transitionHealth(id, () => initialHealthState)]),
    );
    this.options.swap(built.engine);
    const restartRequired = restartOnlyKeys.filter((key) => JSON.stringify(pick(this.config, key)) !== JSON.stringify(pick(next, key)));
    this.config = next;
    this.retire(previous);
    const outcome: ReloadOutcome = { ok: true, routes: built.engine.routes.names(), changedTargets, restartRequired };
    logger.info({ routes: outcome.routes, changedTargets }, 'config reloaded');
    if (restartRequired.length > 0) logger.warn({ keys: restartRequired }, 'config reload: these settings take effect only after a restart');
    return this.report(outcome);
  }

  /**
   * The old engine's health checks and store listeners stop now (the new engine has its own);
   * its requests in flight go on to their end, recording their outcomes in the shared store.
   */
  private retire(engine: Engine): void {
    const done = engine.retire().catch((error: unknown) => this.options.logger.warn({ err: error }, 'config reload: retiring the previous engine failed'));
    this.retired.add(done);
    void done.finally(() => this.retired.delete(done));
  }

  private report(outcome: ReloadOutcome): ReloadOutcome {
    this.options.onReload?.(outcome);
    return outcome;
  }
}

/** Targets present before and after whose upstream is not the same one any more. */
function changedDefinitions(before: ReadonlyMap<string, Target>, after: ReadonlyMap<string, Target>): string[] {
  const changed: string[] = [];
  for (const [id, target] of after) {
    const old = before.get(id);
    if (old && fingerprint(old) !== fingerprint(target)) changed.push(id);
  }
  return changed;
}

function fingerprint(target: Target): string {
  const provider = target.provider;
  return JSON.stringify([provider.type, provider.baseUrl, target.apiKey, provider.headers, provider.options, target.model]);
}

function pick(config: DetourConfig, key: string): unknown {
  let value: unknown = config;
  for (const part of key.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}
