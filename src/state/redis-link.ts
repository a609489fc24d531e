import type { Clock } from '../core/clock.js';
import type { RedisClient } from './redis-connection.js';
import type { StoreStatus } from './redis-status.js';

export interface RedisLinkOptions {
  commands: RedisClient;
  subscriber: RedisClient;
  /** The change channel, subscribed before every reconciliation so that no change slips between. */
  channel: string;
  clock: Clock;
  /** The longest the first connection may take before the store starts in local fallback (ioredis keeps trying behind it). */
  startTimeoutMs: number;
  /** How often to try Redis again while it is away (default 1 000 ms). */
  recoveryIntervalMs?: number | undefined;
  /**
   * Brings the local state and Redis together once Redis answers again: re-reads what other
   * instances changed, writes back what this one decided alone. Rejects when Redis fails again.
   */
  reconcile(): Promise<void>;
}

/**
 * - `connecting`: before the first connection; decisions are local.
 * - `up`: shared state goes through Redis.
 * - `recovering`: Redis answers again and the state is being reconciled; writes already go to
 *   Redis (so none made meanwhile is lost locally) but the status still says local-fallback.
 * - `down`: Redis is unreachable or too slow; decisions are local.
 */
type Phase = 'connecting' | 'up' | 'recovering' | 'down' | 'closed';

/**
 * The store's connection to Redis and the one place that decides whether to use it. A failed
 * command or a closed connection flips it to local state at once (later commands do not wait for
 * a timeout each); a timer and ioredis's own reconnection bring it back, through a
 * reconciliation. Listeners hear of a change of mode, not of every failure, so that an outage is
 * logged once.
 */
export class RedisLink {
  private phase: Phase = 'connecting';
  private status: StoreStatus;
  private readonly listeners = new Set<(status: StoreStatus) => void>();
  private timer: NodeJS.Timeout | undefined;
  private recovery: Promise<void> | undefined;
  private lastError: string | null = null;
  /** Resolves once the first connection attempt (and its reconciliation) is over, whatever its outcome. */
  readonly started: Promise<void>;

  constructor(private readonly options: RedisLinkOptions) {
    this.status = { mode: 'connecting', since: options.clock.now(), reason: null, fallbacks: 0 };
    for (const client of [options.commands, options.subscriber]) {
      // ioredis emits 'error' on every failed reconnection: remembered for the status, not thrown.
      client.on('error', (error) => {
        this.lastError = error instanceof Error ? error.message : String(error);
      });
      client.on('close', () => this.fail(new Error(this.lastError ?? 'the connection to Redis closed')));
      client.on('ready', () => void this.recover());
    }
    this.started = this.start();
  }

  /** Whether the first connection attempt is still under way. */
  get isConnecting(): boolean {
    return this.phase === 'connecting';
  }

  /** Whether shared state should go through Redis now. */
  get isUsable(): boolean {
    return this.phase === 'up' || this.phase === 'recovering';
  }

  current(): StoreStatus {
    return { ...this.status };
  }

  onStatusChange(listener: (status: StoreStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Redis failed a command or a connection: decide locally from now on, until it recovers. */
  fail(error: unknown): void {
    if (this.phase === 'closed' || this.phase === 'down') return;
    const reason = error instanceof Error ? error.message : String(error);
    this.lastError = reason;
    this.phase = 'down';
    // A failed reconciliation never showed `redis`: the outage goes on, and is not counted twice.
    if (this.status.mode !== 'local-fallback') this.report('local-fallback', reason, this.status.fallbacks + 1);
    this.scheduleRecovery();
  }

  async close(): Promise<void> {
    this.phase = 'closed';
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    await Promise.all([this.options.commands, this.options.subscriber].map((client) => quit(client)));
  }

  private async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // Sentinel and Cluster clients may go on trying without rejecting: a start must not wait on them.
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection to Redis within ${this.options.startTimeoutMs} ms`)), this.options.startTimeoutMs);
    });
    try {
      await Promise.race([Promise.all([this.options.commands.connect(), this.options.subscriber.connect()]), timeout]);
    } catch (error) {
      // ioredis keeps reconnecting in the background; 'ready' or the timer will bring it back.
      this.fail(error);
      return;
    } finally {
      clearTimeout(timer);
    }
    await this.recover();
  }

  /** Tries Redis again; one attempt at a time, and a no-op unless the state is local. */
  private recover(): Promise<void> {
    if (this.recovery) return this.recovery;
    if (this.phase !== 'down' && this.phase !== 'connecting') return Promise.resolve();
    if (this.options.commands.status !== 'ready' || this.options.subscriber.status !== 'ready') return Promise.resolve();
    this.recovery = this.reconnect().finally(() => {
      this.recovery = undefined;
    });
    return this.recovery;
  }

  private async reconnect(): Promise<void> {
    try {
      await this.options.commands.ping();
      // Subscribed before reading, so a change made between the read and now is heard, not lost.
      await this.options.subscriber.subscribe(this.options.channel);
      if (this.phase === 'closed') return;
      this.phase = 'recovering';
      await this.options.reconcile();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.phase !== 'recovering') return;
    this.phase = 'up';
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lastError = null;
    this.report('redis', null, this.status.fallbacks);
  }

  private scheduleRecovery(): void {
    if (this.timer || this.phase === 'closed') return;
    const intervalMs = this.options.recoveryIntervalMs ?? 1_000;
    this.timer = setInterval(() => void this.recover(), intervalMs);
    this.timer.unref();
  }

  private report(mode: StoreStatus['mode'], reason: string | null, fallbacks: number): void {
    this.status = { mode, since: this.options.clock.now(), reason, fallbacks };
    const status = this.current();
    for (const listener of [...this.listeners]) {
      try {
        listener(status);
      } catch {
        // A logger that throws must not keep the store from serving.
      }
    }
  }
}

/** Closes a connection politely when Redis answers, at once when it does not. */
async function quit(client: RedisClient): Promise<void> {
  client.removeAllListeners();
  // Without a listener, a late 'error' from the closing socket would crash the process.
  client.on('error', () => undefined);
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through to a hard disconnect.
    }
  }
  client.disconnect();
}
