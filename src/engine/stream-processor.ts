import { DetourError } from '../core/errors.js';
import type { Target } from '../core/settings.js';
import type { ProviderAdapter, SseEvent, StreamDecoder, StreamEncoder, Usage } from '../providers/types.js';

/**
 * Turns upstream stream events into text for the client. Two kinds: pass-through (same
 * format: events are forwarded as received, only watched) and translating (decoded to
 * canonical chunks, encoded in the client's format).
 */
export interface StreamProcessor {
  /** Text for the client from these events; throws a DetourError for an in-stream error. */
  process(events: readonly SseEvent[]): string;
  /** Text that ends the stream; throws STREAM_INTERRUPTED when the upstream stopped early. */
  end(): string;
  /** The answer is whole (a finish reason or the end marker has arrived). */
  readonly isDone: boolean;
  /** The stream's own end marker has arrived: nothing more will come, so reading can stop. */
  readonly isTerminal: boolean;
  readonly usage: Usage | undefined;
}

export function interruptedError(target: Target): DetourError {
  return new DetourError({
    kind: 'retryable',
    code: 'STREAM_INTERRUPTED',
    target: target.id,
    message: `${target.id} ended its stream before the answer was complete`,
  });
}

export class PassThroughProcessor implements StreamProcessor {
  usage: Usage | undefined;
  private isEndMarkerSeen = false;
  private isFinished = false;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly target: Target,
    private readonly clientWantsUsage: boolean,
    private readonly endMarker: string,
  ) {}

  get isDone(): boolean {
    return this.isEndMarkerSeen;
  }

  get isTerminal(): boolean {
    return this.isEndMarkerSeen;
  }

  process(events: readonly SseEvent[]): string {
    let out = '';
    for (const event of events) {
      const seen = this.adapter.inspectEvent(event, this.clientWantsUsage, this.target);
      if (seen.error) throw seen.error;
      if (seen.usage) this.usage = seen.usage;
      if (seen.finished) this.isFinished = true;
      if (seen.done) this.isEndMarkerSeen = true;
      if (seen.forward) out += `${event.raw}\n\n`;
    }
    return out;
  }

  end(): string {
    if (this.isEndMarkerSeen) return '';
    if (!this.isFinished) throw interruptedError(this.target);
    return this.endMarker;
  }
}

export class TranslatingProcessor implements StreamProcessor {
  usage: Usage | undefined;

  constructor(
    private readonly decoder: StreamDecoder,
    private readonly encoder: StreamEncoder,
    private readonly target: Target,
  ) {}

  get isDone(): boolean {
    return this.decoder.isComplete;
  }

  get isTerminal(): boolean {
    return this.decoder.isTerminated;
  }

  process(events: readonly SseEvent[]): string {
    let out = '';
    for (const event of events) {
      for (const chunk of this.decoder.decode(event)) {
        if (chunk.usage) this.usage = chunk.usage;
        out += this.encoder.encode(chunk);
      }
    }
    return out;
  }

  end(): string {
    if (!this.decoder.isComplete) throw interruptedError(this.target);
    return this.encoder.end();
  }
}
