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
    // A passed-through piece has no chunks: no new arrays for them, once per event of a watched stream.
    chunks: second.chunks.length === 0 ? first.chunks : first.chunks.length === 0 ? second.chunks : [...first.chunks, ...second.chunks],
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
  /** Something arrived and is held back (a tool call not yet whole): the stream has started, though the client has nothing new. */
  readonly isHolding: boolean;
  /**
   * How many of the events processed so far reached the client whole (the rest are held): what a
   * continuation takes as the client's part. Undefined when nothing is ever held.
   */
  readonly releasedEvents?: number | undefined;
}

/**
 * A stream that may be continued holds a tool call back until the answer's finish reason (or
 * its clean end), so that a break inside the arguments has sent the client nothing of it and
 * the answer can be continued from the text before it: arguments are never spliced. A tool call
 * held past this many characters is let go (bounded memory; a client waiting on a long call
 * sees it flow), and a break after that fails explicitly.
 */
export const maxHeldToolCallChars = 256 * 1024;

function hasToolCalls(chunk: ChatChunk): boolean {
  return (chunk.choices[0]?.delta.tool_calls?.length ?? 0) > 0;
}

function isFinishChunk(chunk: ChatChunk): boolean {
  return Boolean(chunk.choices[0]?.finish_reason);
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
  releasedEvents: number | undefined;
  private isEndMarkerSeen = false;
  private isFinished = false;
  /** Kept (not parsed) for `answer`: the first event names the answer and its model, the finishing ones carry the finish reasons. */
  private firstEvent: SseEvent | undefined;
  private finishingEvents: SseEvent[] | undefined;
  private processedEvents = 0;
  /** Raw text held back since a tool call began; undefined while nothing is held. */
  private held: string | undefined;
  /** A tool call went out to the client: from then on nothing is held. */
  private isToolCallSent = false;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly target: Target,
    private readonly clientWantsUsage: boolean,
    /** Hold tool calls back until the answer is whole (a stream that may be continued). */
    private readonly holdsToolCalls = false,
  ) {
    if (holdsToolCalls && adapter.isToolCallEvent) this.releasedEvents = 0;
  }

  get isHolding(): boolean {
    return this.held !== undefined;
  }

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
      if (this.releasedEvents === undefined) {
        if (seen.forward) out += `${event.raw}\n\n`;
        continue;
      }
      this.processedEvents++;
      out += this.hold(event, seen.forward ? `${event.raw}\n\n` : '', Boolean(seen.finished || seen.done));
    }
    return out === '' ? emptyPiece : { text: out, chunks: noChunks, isEnd: false };
  }

  /** What of one event goes out now: nothing while a tool call is held, everything held once the answer is whole. */
  private hold(event: SseEvent, text: string, isWhole: boolean): string {
    if (this.held === undefined && !this.isToolCallSent && this.adapter.isToolCallEvent?.(event)) this.held = '';
    if (this.held === undefined) {
      this.releasedEvents = this.processedEvents;
      return text;
    }
    this.held += text;
    if (!isWhole && this.held.length <= maxHeldToolCallChars) return '';
    const out = this.held;
    this.held = undefined;
    this.isToolCallSent = true;
    this.releasedEvents = this.processedEvents;
    return out;
  }

  end(): StreamPiece {
    const held = this.held;
    if (this.isEndMarkerSeen) return emptyPiece;
    if (!this.isFinished) throw interruptedError(this.target);
    // The answer is whole but the upstream left out its end marker: the gateway adds the format's.
    if (held) {
      this.held = undefined;
      return { text: held, chunks: noChunks, isEnd: true };
    }
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
  releasedEvents: number | undefined;
  private processedEvents = 0;
  /** Chunks held back since a tool call began (see `maxHeldToolCallChars`); undefined while nothing is held. */
  private held: ChatChunk[] | undefined;
  private heldChars = 0;
  private isToolCallSent = false;

  constructor(
    private readonly decoder: StreamDecoder,
    private readonly target: Target,
    holdsToolCalls = false,
  ) {
    if (holdsToolCalls) this.releasedEvents = 0;
  }

  get isHolding(): boolean {
    return this.held !== undefined;
  }

  get isDone(): boolean {
    return this.decoder.isComplete;
  }

  get isTerminal(): boolean {
    return this.decoder.isTerminated;
  }

  process(events: readonly SseEvent[]): StreamPiece {
    let chunks: ChatChunk[] | undefined;
    for (const event of events) {
      const decoded = this.decoder.decode(event);
      for (const chunk of decoded) {
        if (chunk.usage) this.usage = chunk.usage;
        this.answerId ??= chunk.id || undefined;
        this.model ??= chunk.model || undefined;
        // One reason per choice as it finishes; bounded, whatever an upstream sends.
        for (const choice of chunk.choices) if (choice.finish_reason && (this.finishReasons ??= []).length < 64) this.finishReasons.push(choice.finish_reason);
      }
      if (this.releasedEvents !== undefined) {
        this.processedEvents++;
        if (!this.hold(event, decoded)) continue;
      }
      if (decoded.length > 0) (chunks ??= []).push(...decoded);
    }
    return chunks ? { text: '', chunks, isEnd: false } : emptyPiece;
  }

  /** Whether one event's chunks go out now; once the held tool call is let go, `decoded` carries everything held before it too. */
  private hold(event: SseEvent, decoded: ChatChunk[]): boolean {
    if (this.held === undefined && !this.isToolCallSent && decoded.some(hasToolCalls)) this.held = [];
    if (this.held === undefined) {
      this.releasedEvents = this.processedEvents;
      return true;
    }
    this.held.push(...decoded);
    this.heldChars += event.raw.length;
    if (!decoded.some(isFinishChunk) && !this.decoder.isComplete && this.heldChars <= maxHeldToolCallChars) return false;
    decoded.splice(0, decoded.length, ...this.held);
    this.held = undefined;
    this.isToolCallSent = true;
    this.releasedEvents = this.processedEvents;
    return true;
  }

  end(): StreamPiece {
    if (!this.decoder.isComplete) throw interruptedError(this.target);
    const held = this.held;
    if (held) {
      this.held = undefined;
      return { text: '', chunks: held, isEnd: true };
    }
    return endPiece;
  }

  get answer(): AnswerFacts {
    return { id: this.answerId, model: this.model, finishReasons: this.finishReasons };
  }
}
