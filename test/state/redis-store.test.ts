import { afterAll, beforeAll } from 'vitest';
import type { ManualClock } from '../../src/core/clock.js';
import { RedisStateStore } from '../../src/state/redis-store.js';
import { describeWithRedis, RedisServer } from '../helpers/redis.js';
import { describeStateStoreContract } from './state-store-contract.js';

describeWithRedis('RedisStateStore', () => {
  let server: RedisServer;
  let clusters = 0;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server.close();
  });

  // Two stores on one server under a prefix of their own: two instances of one cluster, isolated from the other tests.
  describeStateStoreContract('redis', async (clock: ManualClock) => {
    const prefix = `contract${clusters++}:`;
    const make = () => new RedisStateStore({ clock, connection: { kind: 'standalone', url: server.url }, prefix });
    const stores = [make(), make()] as const;
    await Promise.all(stores.map((store) => store.preload([])));
    for (const store of stores) if (store.status().mode !== 'redis') throw new Error(`store not connected: ${JSON.stringify(store.status())}`);
    return { stores, dispose: async () => void (await Promise.all(stores.map((store) => store.close()))) };
  });
});
