import { Agent, errors, Pool, type Dispatcher } from 'undici';
import type { UpstreamRequest } from '../providers/types.js';
import { defaultMaxEventBytes } from '../providers/shared/sse.js';
import type { AbortSource } from '../core/abort-source.js';
import { WholeAnswerReader, type OnAnswerHead, type WholeAnswer } from './whole-answer.js';

export type UpstreamResponse = Dispatcher.ResponseData;

/** Connections Detour opens to one origin at most, unless its provider says otherwise. */
export const defaultMaxConnections = 256;
/** Largest non-streaming upstream answer read, decoded (`server.max_upstream_body_bytes`). */
export const defaultMaxUpstreamBodyBytes = 32 * 1024 * 1024;

export interface UpstreamLimits {
  /** A non-streaming answer past this is refused as `UPSTREAM_BAD_RESPONSE`. */
  maxBodyBytes: number;
  /** One stream event past this is refused as `UPSTREAM_BAD_RESPONSE`. */
  maxEventBytes: number;
}

/** What `send` can be aborted through (the attempt's own `AttemptAbort`, or an `AbortSignal`). */
export type { AbortSource };

/** Where a URL goes, as undici's dispatcher takes it. */
interface Destination {
  origin: string;
  path: string;
}

/** Distinct upstream URLs remembered parsed; a config has a handful, so the cap only guards against a runaway. */
const maxDestinations = 1024;

export interface UpstreamHttpOptions {
  connectTimeoutMs?: number;
  limits?: Partial<UpstreamLimits>;
  /** Connection cap per origin (`https://api.openai.com`); `defaultMaxConnections` where unnamed. */
  maxConnectionsByOrigin?: ReadonlyMap<string, number>;
}

/**
 * The only place Detour opens connections to upstreams: one keep-alive pool per origin
 * (undici's Agent), each capped (`providers.*.max_connections`). A request beyond the cap
 * waits in the pool's queue, and that wait is spent from its own attempt timer and deadline
 * (the engine's timers run from before `send`). Timeouts are the engine's own (attempt, first
 * token, idle), so undici's are set out of their way.
 */
export class UpstreamHttp {
  readonly limits: UpstreamLimits;
  private readonly agent: Agent;
  /** Each upstream URL parsed once: the URLs are the targets' own, the same on every request. */
  private readonly destinations = new Map<string, Destination>();

  constructor(options: UpstreamHttpOptions = {}) {
    this.limits = { maxBodyBytes: options.limits?.maxBodyBytes ?? defaultMaxUpstreamBodyBytes, maxEventBytes: options.limits?.maxEventBytes ?? defaultMaxEventBytes };
    const caps = options.maxConnectionsByOrigin ?? new Map<string, number>();
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      headersTimeout: 0,
      bodyTimeout: 0,
      pipelining: 1,
      factory: (origin, poolOptions) => new Pool(origin, { ...poolOptions, connections: caps.get(originOf(origin)) ?? defaultMaxConnections }),
    });
  }

  send(upstream: UpstreamRequest, signal: AbortSource): Promise<UpstreamResponse> {
    const { origin, path } = this.destinationOf(upstream.url);
    // The dispatcher directly: undici's top-level `request(url)` parses the URL again on every call.
    return this.agent.request({ origin, path, method: upstream.method, headers: upstream.headers, body: upstream.body, signal: signal as AbortSignal });
  }

  /**
   * A non-streaming call read whole (`whole-answer.ts`): no body stream is built, and the body
   * is refused past `limits.maxBodyBytes`. `onHead` hears the status and headers first.
   */
  sendWhole(upstream: UpstreamRequest, signal: AbortSource, target: string, onHead: OnAnswerHead): Promise<WholeAnswer> {
    const { origin, path } = this.destinationOf(upstream.url);
    const reader = new WholeAnswerReader(signal, this.limits.maxBodyBytes, target, onHead);
    this.agent.dispatch({ origin, path, method: upstream.method, headers: upstream.headers, body: upstream.body }, reader);
    return reader.answer;
  }

  private destinationOf(url: string): Destination {
    let destination = this.destinations.get(url);
    if (destination === undefined) {
      const parsed = new URL(url);
      // As undici's own `request(url)` refuses them, so that the failure is classified the same.
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new errors.InvalidArgumentError('Invalid URL protocol: the URL must start with `http:` or `https:`.');
      destination = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (this.destinations.size >= maxDestinations) this.destinations.clear();
      this.destinations.set(url, destination);
    }
    return destination;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** `https://host:port` of a URL or origin, as undici names its pools. */
export function originOf(url: string | URL): string {
  try {
    return new URL(url).origin;
  } catch {
    return String(url);
  }
}

/** The tightest cap each origin's providers ask for. */
export function connectionCaps(providers: ReadonlyArray<{ baseUrl: string; maxConnections?: number | undefined }>): Map<string, number> {
  const caps = new Map<string, number>();
  for (const provider of providers) {
    if (provider.maxConnections === undefined) continue;
    const origin = originOf(provider.baseUrl);
    caps.set(origin, Math.min(caps.get(origin) ?? Infinity, provider.maxConnections));
  }
  return caps;
}
