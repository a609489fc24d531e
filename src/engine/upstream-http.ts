import { Agent, request, type Dispatcher } from 'undici';
import type { UpstreamRequest } from '../providers/types.js';

export type UpstreamResponse = Dispatcher.ResponseData;

/**
 * The only place Detour opens connections to upstreams: one keep-alive pool per origin
 * (undici's Agent). Timeouts are the engine's own (attempt, first token, idle), so undici's
 * are set out of their way.
 */
export class UpstreamHttp {
  private readonly agent: Agent;

  constructor(options: { connectTimeoutMs?: number } = {}) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      headersTimeout: 0,
      bodyTimeout: 0,
      pipelining: 1,
    });
  }

  send(upstream: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    return request(upstream.url, {
      method: upstream.method,
      headers: upstream.headers,
      body: upstream.body,
      signal,
      dispatcher: this.agent,
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
