import { LightAbort } from '../core/abort-source.js';
import { adapterKeyOf } from '../providers/registry.js';
import { DetourError } from '../core/errors.js';
import type { MirrorSettings, Target } from '../core/settings.js';
import type { ChatRequest, ChatResponse, ProviderAdapter } from '../providers/types.js';
import { runAttempt } from './attempt.js';
import type { EngineContext } from './engine.js';
import { PassThroughProcessor } from './stream-processor.js';

/** What the client was served, for the comparison. */
export interface ServedAnswer {
  requestId: string;
  route: string;
  target: string;
  latencyMs: number;
  /** The served text, when known (non-streaming answers). */
  text(): string | undefined;
}

/**
 * Request mirroring: a sampled share of a route's requests is also sent to a shadow target after
 * the client has its answer. The shadow's answer is never returned and adds no latency; it is
 * compared with the served one (similarity, length, latency, cost) into a `mirror.compared` event.
 */
export class Mirror {
  constructor(
    private readonly context: EngineContext,
    private readonly target: Target,
    private readonly settings: MirrorSettings,
    private readonly attemptTimeoutMs: number,
  ) {}

  /** Decides by sample whether to mirror this request, and if so sends it off the request path. */
  maybeSend(canonical: () => ChatRequest, served: ServedAnswer): void {
    if (this.context.random() >= this.settings.sampleRate) return;
    setImmediate(() => void this.send(canonical(), served));
  }

  private async send(request: ChatRequest, served: ServedAnswer): Promise<void> {
    const adapter = this.context.adapters[adapterKeyOf(this.target.provider)] as ProviderAdapter | undefined;
    if (!adapter) return;
    const startedAt = this.context.clock.now();
    let status = 0;
    let errorCode: DetourError['code'] | undefined;
    let response: ChatResponse | undefined;
    try {
      const upstream = adapter.buildRequest({ ...request, stream: false, stream_options: undefined }, this.target, { stream: false, wantStreamUsage: false });
      const success = await runAttempt({
        target: this.target,
        adapter,
        upstream,
        stream: false,
        attemptTimeoutMs: this.attemptTimeoutMs,
        firstTokenTimeoutMs: this.attemptTimeoutMs,
        idleTimeoutMs: this.attemptTimeoutMs,
        // Shadow traffic never outlasts one attempt's timeout, body included.
        deadlineMs: this.attemptTimeoutMs,
        clientSignal: new LightAbort(),
        http: this.context.http,
        clock: this.context.clock,
        timers: this.context.timers,
        createProcessor: () => new PassThroughProcessor(adapter, this.target, false),
      });
      // A mirror sends chat only: its answer is never an embeddings one.
      if (success.type !== 'body' || !('response' in success.answer)) return;
      status = success.status;
      response = success.answer.response;
    } catch (error) {
      const failure = error instanceof DetourError ? error : undefined;
      status = failure?.status ?? 0;
      errorCode = failure?.code ?? 'INTERNAL_ERROR';
    }
    const mirrorText = response?.choices[0]?.message.content ?? undefined;
    const servedText = served.text();
    this.context.events.emit('mirror.compared', {
      requestId: served.requestId,
      route: served.route,
      target: served.target,
      mirrorTarget: this.target.id,
      model: this.target.model,
      status,
      errorCode,
      similarity: mirrorText !== undefined && servedText !== undefined ? similarity(servedText, mirrorText) : undefined,
      lengthRatio: mirrorText !== undefined && servedText ? mirrorText.length / servedText.length : undefined,
      servedLatencyMs: served.latencyMs,
      mirrorLatencyMs: this.context.clock.now() - startedAt,
      usage: response?.usage,
    });
  }
}

/** Jaccard similarity of the two texts' word sets: 1 for the same words, 0 for none shared. */
export function similarity(a: string, b: string): number {
  const words = (text: string): Set<string> => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const left = words(a);
  const right = words(b);
  if (left.size === 0 && right.size === 0) return 1;
  let shared = 0;
  for (const word of left) if (right.has(word)) shared++;
  return shared / (left.size + right.size - shared);
}
