import { Agent } from 'undici';
import { seededRandom } from '../core/clock.js';
import { sendCall, type CallRecord } from './client-call.js';
import { defaultMixShares, nextRequest, type MixShares } from './request-mix.js';

export interface LoadOptions {
  /** Gateway root URL. */
  baseUrl: string;
  route: string;
  /** Requests per second, sent on schedule whatever the answers do (open loop). */
  rps: number;
  durationMs: number;
  /** Per request: the route's deadline plus a grace. */
  deadlineMs: number;
  seed: number;
  /** Requests outstanding at most; a request due beyond it is not sent and counted as dropped. */
  maxInFlight: number;
  shares?: MixShares;
  /** Stops the schedule; requests in flight still finish, as their deadlines bound them. */
  signal: AbortSignal;
  onSent?(): void;
  onRecord?(record: CallRecord): void;
}

export interface LoadResult {
  records: CallRecord[];
  /** Due requests not sent because `maxInFlight` were outstanding: the client, not the gateway, was saturated. */
  dropped: number;
}

/**
 * Sends `rps` requests per second for `durationMs`, each at its scheduled time, not when the
 * previous one answered: a slow gateway must not slow the load down, or an incident would hide
 * itself (the coordinated-omission trap of closed-loop load). Resolves once every request sent
 * has ended, which its own deadline bounds.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const random = seededRandom(options.seed);
  const dispatcher = new Agent({ connections: options.maxInFlight, keepAliveTimeout: 10_000 });
  const intervalMs = 1000 / options.rps;
  const total = Math.max(1, Math.floor((options.durationMs / 1000) * options.rps));
  const records: CallRecord[] = [];
  const pending = new Set<Promise<void>>();
  let dropped = 0;
  const startedAt = Date.now();
  try {
    for (let index = 0; index < total && !options.signal.aborted; ) {
      // Everything due by now goes out, so a late timer catches up rather than lowering the rate.
      while (index < total && startedAt + index * intervalMs <= Date.now()) {
        const spec = nextRequest(options.route, random, options.shares ?? defaultMixShares);
        index++;
        if (pending.size >= options.maxInFlight) {
          dropped++;
          continue;
        }
        const call = sendCall(spec, { baseUrl: options.baseUrl, dispatcher, deadlineMs: options.deadlineMs }).then((record) => {
          records.push(record);
          options.onRecord?.(record);
        });
        pending.add(call);
        options.onSent?.();
        void call.finally(() => pending.delete(call));
      }
      if (index < total) await sleep(Math.max(0, startedAt + index * intervalMs - Date.now()), options.signal);
    }
    await Promise.all(pending);
  } finally {
    await dispatcher.close();
  }
  return { records, dropped };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
