import { z } from 'zod';

/**
 * Where circuits, health, counters and leases live:
 *
 * ```yaml
 * state:
 *   store: redis                       # memory (the default: one machine) | redis (a cluster)
 *   url: redis://127.0.0.1:6379        # redis://[user:password@]host:port[/db]; rediss:// for TLS
 *   prefix: "detour:"                  # keys and channel; one prefix per cluster sharing a server
 *   command_timeout_ms: 250            # slower than this and an instance decides locally
 *   connect_timeout_ms: 2000
 *   # Redis Sentinel: the master is found through the sentinels; `url` then gives only the
 *   # master's credentials, database and TLS (its host is not used).
 *   sentinel: { master: mymaster, nodes: ["10.0.0.1:26379", "10.0.0.2:26379"], password: "..." }
 *   # Redis Cluster: the seed nodes; `url` gives the credentials and TLS (no database).
 *   cluster: { nodes: ["10.0.0.1:7000", "10.0.0.2:7000"] }
 * ```
 *
 * With Redis, every instance sees the circuit another opened within milliseconds; when Redis is
 * unreachable or slower than `command_timeout_ms`, each instance falls back to its own state,
 * logs it once, keeps serving, and reconciles when Redis answers again.
 */

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'expected host:port, e.g. 10.0.0.1:26379');

const redisUrl = z
  .string()
  .refine((url) => URL.canParse(url) && /^rediss?:\/\//.test(url), 'expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');

export const stateSchema = z
  .object({
    store: z.enum(['memory', 'redis']).default('memory'),
    url: redisUrl.default('redis://127.0.0.1:6379'),
    prefix: z.string().min(1).default('detour:'),
    command_timeout_ms: z.number().int().positive().default(250),
    connect_timeout_ms: z.number().int().positive().default(2_000),
    sentinel: z
      .object({
        /** The master group's name, as the sentinels know it. */
        master: z.string().min(1),
        nodes: z.array(hostPort).min(1, 'list at least one sentinel'),
        /** The sentinels' own password, if they have one. */
        password: z.string().optional(),
      })
      .strict()
      .optional(),
    cluster: z
      .object({ nodes: z.array(hostPort).min(1, 'list at least one seed node') })
      .strict()
      .optional(),
  })
  .strict()
  .refine((state) => state.sentinel === undefined || state.cluster === undefined, { message: 'give sentinel or cluster, not both', path: ['cluster'] });

export type StateConfig = z.infer<typeof stateSchema>;

interface Endpoint {
  host: string;
  port: number;
}

/** The state store's settings, in the shape `RedisStateStore` takes (durations in ms). */
export type StateSettings =
  | { store: 'memory' }
  | {
      store: 'redis';
      connection:
        | { kind: 'standalone'; url: string }
        | { kind: 'sentinel'; url: string; masterName: string; sentinels: Endpoint[]; sentinelPassword: string | undefined }
        | { kind: 'cluster'; url: string; nodes: Endpoint[] };
      prefix: string;
      commandTimeoutMs: number;
      connectTimeoutMs: number;
    };

export function toStateSettings(state: StateConfig): StateSettings {
  if (state.store === 'memory') return { store: 'memory' };
  const connection = state.sentinel
    ? { kind: 'sentinel' as const, url: state.url, masterName: state.sentinel.master, sentinels: state.sentinel.nodes.map(endpoint), sentinelPassword: state.sentinel.password }
    : state.cluster
      ? { kind: 'cluster' as const, url: state.url, nodes: state.cluster.nodes.map(endpoint) }
      : { kind: 'standalone' as const, url: state.url };
  return { store: 'redis', connection, prefix: state.prefix, commandTimeoutMs: state.command_timeout_ms, connectTimeoutMs: state.connect_timeout_ms };
}

function endpoint(text: string): Endpoint {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
}
