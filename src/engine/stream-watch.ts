import { estimateTokens } from '../core/continuation.js';
import { DetourError } from '../core/errors.js';
import type { Target } from '../core/settings.js';
import type { ProviderAdapter, SseEvent, StreamDecoder } from '../providers/types.js';

/** A stream kept for a continuation holds at most this much of the upstream's text; a longer one is not continued. */
const maxKeptChars = 4 * 1024 * 1024;
/** The pace of a stream is judged over windows of this length. */
const paceWindowMs = 5_000;

/**
 * Watches one upstream stream for what a continuation needs: the events it sent (kept as
 * received, decoded only if the stream breaks) and, when the route sets
 * `stream_min_tokens_per_s`, its pace: a stream slower than that over a window is cut.
 */
export class StreamWatch {
  readonly events: SseEvent[] = [];
  /** The stream outgrew what is kept: it can no longer be continued. */
  isOverflowed = false;
  private keptChars = 0;
  private paceDecoder: StreamDecoder | undefined;
  private windowStartedAt: number | undefined;
  private windowTokens = 0;

  constructor(
    readonly adapter: ProviderAdapter,
    readonly target: Target,
    private readonly options: { isKeeping: boolean; minTokensPerS?: number | undefined },
  ) {}

  kept(event: SseEvent): void {
    if (this.options.minTokensPerS !== undefined) this.count(event);
    if (!this.options.isKeeping || this.isOverflowed) return;
    this.keptChars += event.raw.length;
    if (this.keptChars > maxKeptChars) {
      this.isOverflowed = true;
      this.events.length = 0;
      return;
    }
    this.events.push(event);
  }

  /** A classified failure when the stream has been slower than `stream_min_tokens_per_s` over the last window. */
  checkPace(now: number): DetourError | undefined {
    const min = this.options.minTokensPerS;
    if (min === undefined) return undefined;
    if (this.windowStartedAt === undefined) {
      this.windowStartedAt = now;
      return undefined;
    }
    const elapsedMs = now - this.windowStartedAt;
    if (elapsedMs < paceWindowMs) return undefined;
    const rate = (this.windowTokens * 1000) / elapsedMs;
    this.windowStartedAt = now;
    this.windowTokens = 0;
    if (rate >= min) return undefined;
    return new DetourError({
      kind: 'retryable',
      code: 'UPSTREAM_STREAM_TOO_SLOW',
      target: this.target.id,
      message: `${this.target.id}: the stream slowed to ${rate.toFixed(1)} tokens/s, below stream_min_tokens_per_s (${min})`,
    });
  }

  private count(event: SseEvent): void {
    this.paceDecoder ??= this.adapter.createStreamDecoder(this.target);
    try {
      for (const chunk of this.paceDecoder.decode(event)) {
        const delta = chunk.choices[0]?.delta;
        const text = (delta?.content ?? '') + (delta?.tool_calls?.map((call) => call.function?.arguments ?? '').join('') ?? '');
        if (text) this.windowTokens += estimateTokens(text);
      }
    } catch {
      // An error event is the processor's to report; the pace only counts text.
    }
  }
}
