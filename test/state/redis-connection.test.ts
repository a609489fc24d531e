import { describe, expect, it } from 'vitest';
import { clusterOptions, failFastOptions, redisOptions, urlOptions } from '../../src/state/redis-connection.js';

const timeouts = { commandTimeoutMs: 250, connectTimeoutMs: 2_000 };

describe('Redis connection options', () => {
  it('fail fast: no offline queue, no re-sent command, short timeouts, reconnection within a second', () => {
    const options = failFastOptions(timeouts);
    expect(options).toMatchObject({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, commandTimeout: 250, connectTimeout: 2_000 });
    const delays = [1, 2, 3, 5, 10, 100].map((attempt) => options.retryStrategy?.(attempt));
    expect(delays).toEqual([50, 100, 200, 800, 1_000, 1_000]);
  });

  it('reads credentials, database and TLS from the URL', () => {
    expect(urlOptions('redis://127.0.0.1:6379')).toEqual({});
    expect(urlOptions('rediss://detour:p%40ss@redis.internal:6380/3')).toEqual({ username: 'detour', password: 'p@ss', db: 3, tls: {} });
    expect(urlOptions('redis://:secret@localhost')).toEqual({ password: 'secret' });
  });

  it('connects standalone to the URL’s host and port', () => {
    expect(redisOptions({ kind: 'standalone', url: 'redis://10.0.0.5' }, timeouts)).toMatchObject({ host: '10.0.0.5', port: 6379 });
    expect(redisOptions({ kind: 'standalone', url: 'redis://[::1]:7000/2' }, timeouts)).toMatchObject({ host: '::1', port: 7000, db: 2 });
  });

  it('finds the master through Sentinel, with the URL’s credentials for the master', () => {
    const options = redisOptions(
      { kind: 'sentinel', url: 'redis://:master-secret@ignored/1', masterName: 'detour', sentinels: [{ host: '10.0.0.1', port: 26379 }], sentinelPassword: 'sentinel-secret' },
      timeouts,
    );
    expect(options).toMatchObject({ name: 'detour', sentinels: [{ host: '10.0.0.1', port: 26379 }], sentinelPassword: 'sentinel-secret', password: 'master-secret', db: 1, enableOfflineQueue: false });
    expect(options.host).toBeUndefined();
  });

  it('gives Cluster the fail-fast options per node and at the top, and no database', () => {
    const options = clusterOptions({ kind: 'cluster', url: 'rediss://:secret@ignored/4', nodes: [{ host: '10.0.0.1', port: 7000 }] }, timeouts);
    expect(options).toMatchObject({ lazyConnect: true, enableOfflineQueue: false, redisOptions: { password: 'secret', tls: {}, commandTimeout: 250, maxRetriesPerRequest: 0 } });
    expect(options.redisOptions).not.toHaveProperty('db');
    expect(options.clusterRetryStrategy).toEqual(expect.any(Function));
  });
});
