import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ScriptRunner } from './redis-scripts.js';

/** A host and port of a Sentinel or a Cluster seed node. */
export interface RedisEndpoint {
  host: string;
  port: number;
}

/**
 * Where Redis is. `url` (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS) is the
 * server itself when standalone; with Sentinel or Cluster it gives only the credentials, the
 * database and TLS, and the servers are found through `sentinels` or the seed `nodes`.
 */
export type RedisConnectionSettings =
  | { kind: 'standalone'; url: string }
  | { kind: 'sentinel'; url: string; masterName: string; sentinels: readonly RedisEndpoint[]; sentinelPassword?: string | undefined }
  | { kind: 'cluster'; url: string; nodes: readonly RedisEndpoint[] };

export interface RedisTimeouts {
  /** A command without an answer within this fails, and the store falls back to local state. */
  commandTimeoutMs: number;
  /** A connection attempt gives up after this. */
  connectTimeoutMs: number;
}

/** What the store needs of a connection; ioredis's `Redis` and `Cluster` both fit. */
export interface RedisClient extends ScriptRunner {
  readonly status: string;
  connect(): Promise<unknown>;
  disconnect(): void;
  quit(): Promise<unknown>;
  ping(): Promise<unknown>;
  hmget(key: string, ...fields: string[]): Promise<unknown>;
  set(key: string, value: string, mode: 'PX', ttlMs: number): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeAllListeners(): unknown;
}

/** The longest pause between reconnection attempts: Redis coming back is noticed within it. */
const maxReconnectDelayMs = 1_000;

/**
 * Options that make a client fail fast instead of queueing: while Redis is away a command must
 * reject at once (the store then decides locally), never wait for a reconnection, and never be
 * re-sent after one, since the store has already acted on its failure by then.
 */
export function failFastOptions(timeouts: RedisTimeouts): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: timeouts.commandTimeoutMs,
    connectTimeout: timeouts.connectTimeoutMs,
    connectionName: 'detour',
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.max(0, attempt - 1), maxReconnectDelayMs),
  };
}

/** Credentials, database and TLS from a `redis://` or `rediss://` URL. */
export function urlOptions(url: string): Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> {
  const parsed = new URL(url);
  const options: Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> = {};
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '') options.db = Number(db);
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

/** ioredis options for a standalone or Sentinel connection (Cluster has its own, below). */
export function redisOptions(settings: Exclude<RedisConnectionSettings, { kind: 'cluster' }>, timeouts: RedisTimeouts): RedisOptions {
  const base = { ...failFastOptions(timeouts), ...urlOptions(settings.url) };
  if (settings.kind === 'standalone') {
    const parsed = new URL(settings.url);
    return { ...base, host: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port === '' ? 6379 : Number(parsed.port) };
  }
  return {
    ...base,
    name: settings.masterName,
    sentinels: settings.sentinels.map((endpoint) => ({ ...endpoint })),
    sentinelPassword: settings.sentinelPassword,
    // Ask the sentinels again soon, not after ioredis's default backoff, when they are all away.
    sentinelRetryStrategy: (attempt) => Math.min(100 * attempt, maxReconnectDelayMs),
  };
}

export function clusterOptions(settings: Extract<RedisConnectionSettings, { kind: 'cluster' }>, timeouts: RedisTimeouts): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = failFastOptions(timeouts);
  const { db: _db, ...credentials } = urlOptions(settings.url);
  return {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy ?? null,
    redisOptions: { ...perNode, ...credentials },
  };
}

/**
 * Two connections: one for commands, one for the change channel (a connection that subscribes
 * can do nothing else). Neither connects until `connect()`.
 */
export function createRedisClients(settings: RedisConnectionSettings, timeouts: RedisTimeouts): { commands: RedisClient; subscriber: RedisClient } {
  const make = (): RedisClient =>
    settings.kind === 'cluster' ? new Cluster(settings.nodes.map((node) => ({ ...node })), clusterOptions(settings, timeouts)) : new Redis(redisOptions(settings, timeouts));
  return { commands: make(), subscriber: make() };
}
