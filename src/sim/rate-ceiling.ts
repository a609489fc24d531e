import type { WireFormat } from '../providers/types.js';

/** How many keys' windows are remembered at most: a client inventing keys cannot grow the simulator without bound. */
const maxKeys = 10_000;

/** What the ceiling says of one request: whether it is within, and the provider's rate-limit headers for its answer. */
export interface CeilingVerdict {
  isAllowed: boolean;
  headers: Record<string, string>;
}

/**
 * The `rate_limit_rpm` fault: a per-key requests-per-minute ceiling, enforced the way providers
 * enforce a minute's limit, in shorter fixed slices (`window_ms`, 10 s by default: a sixth of
 * the rpm per 10 s; OpenAI documents quantizing 60,000 rpm into 1,000 per second). Every answer
 * carries the provider's headers (OpenAI's `x-ratelimit-*-requests` with a Go-duration reset,
 * Anthropic's `anthropic-ratelimit-requests-*` with an RFC 3339 reset; Gemini sends none), and a
 * request beyond the ceiling is answered 429 with `retry-after`.
 */
export class RateCeiling {
  private readonly windows = new Map<string, { start: number; count: number }>();

  check(apiKey: string, rpm: number, windowMs: number, format: WireFormat, now: number): CeilingVerdict {
    const allowance = Math.max(1, Math.floor((rpm * windowMs) / 60_000));
    const start = Math.floor(now / windowMs) * windowMs;
    const name = `${windowMs}:${rpm}:${apiKey}`;
    let window = this.windows.get(name);
    if (!window || window.start !== start) {
      if (!window && this.windows.size >= maxKeys) this.windows.clear();
      window = { start, count: 0 };
      this.windows.set(name, window);
    }
    const isAllowed = window.count < allowance;
    if (isAllowed) window.count++;
    const resetMs = start + windowMs - now;
    const headers = rateLimitHeaders(format, rpm, allowance - window.count, resetMs, now);
    if (!isAllowed) headers['retry-after'] = String(Math.max(1, Math.ceil(resetMs / 1000)));
    return { isAllowed, headers };
  }
}

function rateLimitHeaders(format: WireFormat, rpm: number, remaining: number, resetMs: number, now: number): Record<string, string> {
  if (format === 'anthropic') {
    return {
      'anthropic-ratelimit-requests-limit': String(rpm),
      'anthropic-ratelimit-requests-remaining': String(remaining),
      'anthropic-ratelimit-requests-reset': new Date(now + resetMs).toISOString(),
    };
  }
  if (format === 'gemini') return {};
  return { 'x-ratelimit-limit-requests': String(rpm), 'x-ratelimit-remaining-requests': String(remaining), 'x-ratelimit-reset-requests': goDuration(resetMs) };
}

/** Milliseconds as a Go duration, as OpenAI writes its resets: `20ms`, `1.5s`, `6m0s`. */
export function goDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const seconds = (whole % 60_000) / 1000;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}
