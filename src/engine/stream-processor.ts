import { DetourError } from '../core/errors.js';
import type { AnswerFacts } from '../core/events.js';
import type { Target } from '../core/settings.js';
import type { ChatChunk, ErrorPayload, ProviderAdapter, SseEvent, StreamDecoder, Usage } from '../providers/types.js';

/**
 * What the engine hands on from one read of an upstream stream, before anything is encoded for
 * the client: the gateway writes it in the client's format (`gateway/encode-result.ts`), so the
 * engine never holds a client's codec.
 */
export interface StreamPiece {
  /** Passed through: the upstream's SSE text as it came, already in the client's format. */
  readonly text: string;
  /** Translated: canonical chunks, to be encoded in the client's format. */
  readonly chunks: readonly ChatChunk[];
  /** The answer is whole and the format's closing follows (for a passed-through stream, only when the upstream sent no end marker of its own). */
  readonly isEnd: boolean;
  /** The stream failed after it had started: an explicit error event ends it. */
  readonly failure?: ErrorPayload | undefined;
  /** The stream was continued on another target here: an SSE comment that says so, written before the piece. */
  readonly comment?: string | undefined;
  /**
   * The answer text the client already has, when what follows is a continuation: the encoder the
   * gateway creates for it starts from there (inside the message and text block the client has).
   */
  readonly prime?: string | undefined;
  /** Metadata for the final event of a continued stream (`detour: {...}`), on its end piece. */
  readonly mark?: Readonly<Record<string, unknown>> | undefined;
}

const noChunks: readonly ChatChunk[] = Object.freeze([]);
export const emptyPiece: StreamPiece = Object.freeze({ text: '', chunks: noChunks, isEnd: false });
const endPiece: StreamPiece = Object.freeze({ text: '', chunks: noChunks, isEnd: true });

export function isEmptyPiece(piece: StreamPiece): boolean {
  return piece.text === '' && piece.chunks.length === 0 && !piece.isEnd && piece.failure === undefined;
}

/** Two pieces read back to back as one (a first event that also ends the stream). */
export function joinPieces(first: StreamPiece, second: StreamPiece): StreamPiece {
  if (isEmptyPiece(second)) return first;
  if (isEmptyPiece(first)) return second;
  return {
    text: first.text + second.text,
    chunks: [...first.chunks, ...second.chunks],
    isEnd: first.isEnd || second.isEnd,
    failure: second.failure ?? first.failure,
    comment: first.comment ?? second.comment,
    prime: first.prime ?? second.prime,
    mark: second.mark ?? first.mark,
  };
}

export function failurePiece(failure: ErrorPayload): StreamPiece {
  return { text: '', chunks: noChunks, isEnd: false, failure };
}

/**
 * Turns upstream stream events into pieces for the client. Two kinds: pass-through (same
 * format: events are forwarded as received, only watched) and translating (decoded to
 * canonical chunks, which the gateway encodes in the client's format).
 */
export interface StreamProcessor {
  /** What these events give the client; throws a DetourError for an in-stream error. */
  process(events: readonly SseEvent[]): StreamPiece;
  /** What ends the stream; throws STREAM_INTERRUPTED when the upstream stopped early. */
  end(): StreamPiece;
  /** The answer is whole (a finish reason or the end marker has arrived). */
  readonly isDone: boolean;
  /** The stream's own end marker has arrived: nothing more will come, so reading can stop. */
  readonly isTerminal: boolean;
  readonly usage: Usage | undefined;
  /** The answer's id, model and finish reasons, when this processor saw them (a translated stream does; a passed-through one is not parsed). */
  readonly answer?: AnswerFacts | undefined;
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
  /** Kept (not parsed) for `answer`: the first event names the answer and its model, the finishing ones carry the finish reasons. */
  private firstEvent: SseEvent | undefined;
  private finishingEvents: SseEvent[] | undefined;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly target: Target,
    private readonly clientWantsUsage: boolean,
  ) {}

  get isDone(): boolean {
    return this.isEndMarkerSeen;
  }

  get isTerminal(): boolean {
    return this.isEndMarkerSeen;
  }

  process(events: readonly SseEvent[]): StreamPiece {
    let out = '';
    for (const event of events) {
      this.firstEvent ??= event;
      const seen = this.adapter.inspectEvent(event, this.clientWantsUsage, this.target);
      if (seen.error) throw seen.error;
      if (seen.usage) this.usage = seen.usage;
      if (seen.finished) {
        this.isFinished = true;
        // One per choice; bounded, whatever an upstream sends.
        if ((this.finishingEvents ??= []).length < 8) this.finishingEvents.push(event);
      }
      if (seen.done) this.isEndMarkerSeen = true;
      if (seen.forward) out += `${event.raw}\n\n`;
    }
    return out === '' ? emptyPiece : { text: out, chunks: noChunks, isEnd: false };
  }

  end(): StreamPiece {
    if (this.isEndMarkerSeen) return emptyPiece;
    if (!this.isFinished) throw interruptedError(this.target);
    // The answer is whole but the upstream left out its end marker: the gateway adds the format's.
    return endPiece;
  }

  /** Decoded only when asked (tracing, after the request): the kept events through a fresh decoder of the format. */
  get answer(): AnswerFacts | undefined {
    if (!this.firstEvent) return undefined;
    const decoder = this.adapter.createStreamDecoder(this.target);
    const facts: { id?: string; model?: string; finishReasons: string[] } = { finishReasons: [] };
    const first = this.firstEvent;
    for (const event of [first, ...(this.finishingEvents ?? []).filter((finishing) => finishing !== first)]) {
      let chunks: ChatChunk[];
      try {
        chunks = decoder.decode(event);
      } catch {
        continue;
      }
      for (const chunk of chunks) {
        facts.id ??= chunk.id || undefined;
        facts.model ??= chunk.model || undefined;
        for (const choice of chunk.choices) if (choice.finish_reason) facts.finishReasons.push(choice.finish_reason);
      }
    }
    return facts;
  }
}

export class TranslatingProcessor implements StreamProcessor {
  usage: Usage | undefined;
  private answerId: string | undefined;
  private model: string | undefined;
  private finishReasons: string[] | undefined;

  constructor(
    private readonly decoder: StreamDecoder,
    private readonly target: Target,
  ) {}

  get isDone(): boolean {
    return this.decoder.isComplete;
  }

  get isTerminal(): boolean {
    return this.decoder.isTerminated;
  }

  process(events: readonly SseEvent[]): StreamPiece {
    let chunks: ChatChunk[] | undefined;
    for (const event of events) {
      for (const chunk of this.decoder.decode(event)) {
        if (chunk.usage) this.usage = chunk.usage;
        this.answerId ??= chunk.id || undefined;
        this.model ??= chunk.model || undefined;
        // One reason per choice as it finishes; bounded, whatever an upstream sends.
        for (const choice of chunk.choices) if (choice.finish_reason && (this.finishReasons ??= []).length < 64) this.finishReasons.push(choice.finish_reason);
        (chunks ??= []).push(chunk);
      }
    }
    return chunks ? { text: '', chunks, isEnd: false } : emptyPiece;
  }

  end(): StreamPiece {
    if (!this.decoder.isComplete) throw interruptedError(this.target);
    return endPiece;
  }

  get answer(): AnswerFacts {
    return { id: this.answerId, model: this.model, finishReasons: this.finishReasons };
  }
}
