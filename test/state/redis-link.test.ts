import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { RedisClient } from '../../src/state/redis-connection.js';
import { RedisLink } from '../../src/state/redis-link.js';
import type { StoreStatus } from '../../src/state/redis-status.js';

/** A connection that does what the test says: connect hangs until told, ping fails until told. */
class FakeClient extends EventEmitter implements RedisClient {
  status = 'wait';
  isPingFailing = false;
  private connected: (() => void) | undefined;

  connect(): Promise<unknown> {
    return new Promise((resolve) => (this.connected = () => resolve(undefined)));
  }
  /** The server answers: the connection becomes ready. */
  up(): void {
    this.status = 'ready';
    this.connected?.();
    this.emit('ready');
  }
  /** The server goes away. */
  down(): void {
    this.status = 'reconnecting';
    this.emit('error', new Error('connect ECONNREFUSED'));
    this.emit('close');
  }
  disconnect(): void {
    this.status = 'end';
  }
  async quit(): Promise<unknown> {
    this.status = 'end';
    return 'OK';
  }
  async ping(): Promise<unknown> {
    if (this.isPingFailing) throw new Error('Command timed out');
    return 'PONG';
  }
  async set(): Promise<unknown> {
    return 'OK';
  }
  async get(): Promise<string | null> {
    return null;
  }
  async del(): Promise<number> {
    return 0;
  }
  async hmget(): Promise<unknown> {
    return [null, null];
  }
  async subscribe(): Promise<unknown> {
    return 1;
  }
  async evalsha(): Promise<unknown> {
    return null;
  }
  async eval(): Promise<unknown> {
    return null;
  }
}

describe('RedisLink', () => {
  let commands: FakeClient;
  let subscriber: FakeClient;
  let reconcile: ReturnType<typeof vi.fn<() => Promise<void>>>;
  let heard: StoreStatus[];
  let link: RedisLink;

  beforeEach(() => {
    vi.useFakeTimers();
    commands = new FakeClient();
    subscriber = new FakeClient();
    reconcile = vi.fn(async () => undefined);
    link = new RedisLink({ commands, subscriber, channel: 'detour:changes', clock: new ManualClock(5_000), startTimeoutMs: 1_000, recoveryIntervalMs: 100, reconcile });
    heard = [];
    link.onStatusChange((status) => heard.push(status));
  });

  afterEach(async () => {
    await link.close();
    vi.useRealTimers();
  });

  it('starts in local fallback when the first connection does not come within its time, and joins once it does', async () => {
    await vi.advanceTimersByTimeAsync(1_000);
    await link.started;
    expect(link.isUsable).toBe(false);
    expect(link.current()).toMatchObject({ mode: 'local-fallback', fallbacks: 1, reason: 'no connection to Redis within 1000 ms' });

    commands.up();
    subscriber.up();
    await vi.advanceTimersByTimeAsync(0);
    expect(reconcile).toHaveBeenCalledOnce();
    expect(link.isUsable).toBe(true);
    expect(heard.map((status) => status.mode)).toEqual(['local-fallback', 'redis']);
  });

  it('falls back on a closed connection, tells its listeners once, and reconciles on the way back', async () => {
    commands.up();
    subscriber.up();
    await link.started;
    expect(link.current()).toMatchObject({ mode: 'redis', fallbacks: 0 });

    commands.down();
    subscriber.down();
    link.fail(new Error('Stream isn’t writeable'));
    expect(link.isUsable).toBe(false);
    expect(heard.map((status) => status.mode)).toEqual(['redis', 'local-fallback']);
    expect(link.current()).toMatchObject({ mode: 'local-fallback', fallbacks: 1, reason: 'connect ECONNREFUSED' });

    commands.up();
    await vi.advanceTimersByTimeAsync(500);
    // Both connections must be back: the channel is what keeps the views fresh.
    expect(link.isUsable).toBe(false);
    subscriber.up();
    await vi.advanceTimersByTimeAsync(0);
    expect(link.current()).toMatchObject({ mode: 'redis', fallbacks: 1, reason: null });
    expect(reconcile).toHaveBeenCalledTimes(2);
  });

  it('keeps trying a Redis that answers but fails, without counting the outage twice', async () => {
    commands.up();
    subscriber.up();
    await link.started;
    link.fail(new Error('Command timed out'));
    commands.isPingFailing = true;
    await vi.advanceTimersByTimeAsync(350);
    expect(link.current()).toMatchObject({ mode: 'local-fallback', fallbacks: 1 });

    commands.isPingFailing = false;
    reconcile.mockRejectedValueOnce(new Error('Command timed out'));
    await vi.advanceTimersByTimeAsync(100);
    expect(link.current()).toMatchObject({ mode: 'local-fallback', fallbacks: 1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(link.current()).toMatchObject({ mode: 'redis', fallbacks: 1 });
    expect(heard.map((status) => status.mode)).toEqual(['redis', 'local-fallback', 'redis']);
  });
});
