import { randomBytes } from 'node:crypto';
import { KeyDirectory } from '../auth/key-directory.js';
import { KeyGuard, type BudgetAlert } from '../auth/key-guard.js';
import { KeyManager } from '../auth/key-manager.js';
import { displayPrefix } from '../auth/key-secret.js';
import type { KeyStore } from '../auth/key-store.js';
import { defaultAllowedHosts } from '../auth/request-policy.js';
import { SqliteKeyStore } from '../auth/sqlite-key-store.js';
import type { VirtualKey } from '../auth/virtual-key.js';
import type { Clock } from '../core/clock.js';
import { ModelCatalog } from '../core/model-catalog.js';
import { providerKeys } from '../config/runtime.js';
import type { DetourConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../observability/logger.js';

/** Everything between a client and the engine: key checks, the key store and its operations, the HTTP rules. */
export interface FrontDoor {
  /** Present when `auth.mode: keys`: every public request must carry a key. */
  guard: KeyGuard | undefined;
  directory: KeyDirectory;
  /** The key store and its operations, when there is a database to hold them (`auth.secret` set, or the request log on). */
  store: KeyStore | undefined;
  manager: KeyManager | undefined;
  /** Whether stored keys can be created (an `auth.secret` is configured). */
  hasSecret: boolean;
  corsOrigins: readonly string[];
  /** Without an admin token, the `Host` names every endpoint accepts. */
  allowedHosts: readonly string[] | undefined;
  close(): Promise<void>;
}

export interface FrontDoorOptions {
  clock: Clock;
  logger: Logger;
  /** The host actually listened on, for the default allowed hosts. */
  listenHost: string;
  instanceId?: string | undefined;
  onBudgetAlert?: ((alert: BudgetAlert) => void) | undefined;
  /** Whether to open the key store (the request-log database): a library gateway opens no file unless asked. */
  isStoreWanted: boolean;
}

/** A config key as the directory holds it; its id is derived from its name, which is unique in the config. */
export function configKeyOf(entry: DetourConfig['auth']['keys'][number]): { key: VirtualKey; plain: string } {
  return {
    plain: entry.key,
    key: {
      id: `cfg_${entry.name}`,
      name: entry.name,
      prefix: displayPrefix(entry.key),
      createdAt: 0,
      expiresAt: entry.expires_at === undefined ? undefined : Date.parse(entry.expires_at),
      source: 'config',
      routes: entry.routes,
      rpm: entry.rpm,
      tpm: entry.tpm,
      maxParallel: entry.max_parallel,
      budgetUsd: entry.budget_usd,
      period: entry.period,
      priority: entry.priority,
      upstreamKeys: entry.upstream_keys,
    },
  };
}

/** Every `provider.key-name` a client key may be bound to. */
export function upstreamKeyNames(config: DetourConfig): string[] {
  return Object.entries(config.providers).flatMap(([name, provider]) => providerKeys(provider).map((entry) => `${name}.${entry.name}`));
}

/** The key store for a config: the request log's SQLite file, when a secret or the log calls for a database. */
export function openKeyStore(config: DetourConfig): KeyStore | undefined {
  if (config.auth.secret === undefined && !config.log.enabled) return undefined;
  return new SqliteKeyStore(config.log.path);
}

export function buildFrontDoor(config: DetourConfig, engine: Engine, options: FrontDoorOptions): FrontDoor {
  const secret = config.auth.secret;
  const store = options.isStoreWanted ? openKeyStore(config) : undefined;
  const configKeys = config.auth.keys.map(configKeyOf);
  // Without a configured secret, config keys are hashed with one made for this process; stored keys cannot be checked.
  const directory = new KeyDirectory({ secret: secret ?? randomBytes(32).toString('hex'), configKeys, store: secret === undefined ? undefined : store, clock: options.clock });
  if (config.auth.mode === 'keys' && secret === undefined) {
    options.logger.warn('auth.mode is keys but auth.secret (DETOUR_AUTH_SECRET) is not set: only the keys listed in auth.keys work');
  }
  const prices = Object.fromEntries(Object.entries(config.prices).map(([model, price]) => [model, { price: { inputPerMillion: price.input_per_million, outputPerMillion: price.output_per_million, cachedInputPerMillion: price.cached_input_per_million } }]));
  const guard =
    config.auth.mode === 'keys'
      ? new KeyGuard({
          directory,
          store: engine.resilience.store,
          clock: options.clock,
          catalog: new ModelCatalog(prices),
          routes: { models: (route) => engine.routes.resolve(route)?.groups.flatMap((group) => group.targets.map((target) => target.model)) ?? [] },
          onBudgetAlert: options.onBudgetAlert,
          instanceId: options.instanceId,
        })
      : undefined;
  const offSettle = guard ? engine.events.on('request.finished', (event) => guard.settle(event.requestId, { keyName: event.clientKeyId, model: event.model, usage: event.usage })) : undefined;
  const manager =
    store && secret !== undefined
      ? new KeyManager({
          store,
          secret,
          clock: options.clock,
          routes: Object.keys(config.models),
          upstreamKeys: upstreamKeyNames(config),
          reservedNames: config.auth.keys.map((entry) => entry.name),
          onChange: (keyId) => directory.forget(keyId),
        })
      : undefined;
  return {
    guard,
    directory,
    store,
    manager,
    hasSecret: secret !== undefined,
    corsOrigins: config.server.cors_origins,
    allowedHosts: config.server.admin_token !== undefined ? undefined : (config.server.allowed_hosts ?? defaultAllowedHosts(options.listenHost)),
    async close() {
      offSettle?.();
      guard?.close();
      await store?.close();
    },
  };
}
