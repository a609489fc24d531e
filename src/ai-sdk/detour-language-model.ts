import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
} from '@ai-sdk/provider';
import type { Gateway } from '../library/gateway.js';
import type { CallOptions, CallResult } from '../library/in-process-call.js';
import type { ResultStream } from '../library/result-stream.js';
import type { ChatCompletion, ChatCompletionChunk } from '../library/wire-types.js';
import { buildRequest } from './build-request.js';
import { convertUsage } from './convert-usage.js';
import { mapFinishReason } from './map-finish-reason.js';
import { servedHeaders, servedMetadata } from './served-metadata.js';
import { ChunkPartMapper } from './stream-parts.js';
import { toApiCallError } from './to-api-call-error.js';

/**
 * A Detour route as an AI SDK language model: each call goes through the gateway's engine, with
 * the route's failover, retries, timeouts and breakers, and reports who served it in
 * `providerMetadata.detour` and in the response's `x-detour-*` headers.
 */
export class DetourLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  /** Every adapter Detour has accepts image URLs, so the AI SDK need not download them first. */
  readonly supportedUrls: Record<string, RegExp[]> = { 'image/*': [/^https?:\/\/.*$/] };

  constructor(
    private readonly gateway: Gateway,
    /** The route name (or `provider/model`). */
    readonly modelId: string,
    readonly provider: string,
  ) {}

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const { request, warnings } = buildRequest(this.modelId, options);
    let result: CallResult<ChatCompletion>;
    try {
      result = await this.gateway.chat(request, callOptions(options));
    } catch (error) {
      throw toApiCallError(error, this.modelId, request);
    }
    const { response, served } = result;
    const choice = response.choices[0];
    return {
      content: toContent(response),
      finishReason: mapFinishReason(choice?.finish_reason),
      usage: convertUsage(response.usage),
      providerMetadata: { detour: servedMetadata(served) },
      request: { body: request },
      response: { id: response.id, modelId: response.model, timestamp: new Date(response.created * 1000), headers: servedHeaders(served), body: response },
      warnings,
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const { request, warnings } = buildRequest(this.modelId, options);
    const body = { ...request, stream_options: { include_usage: true } };
    let chunks: ResultStream<ChatCompletionChunk>;
    try {
      chunks = await this.gateway.chatStream(body, callOptions(options));
    } catch (error) {
      throw toApiCallError(error, this.modelId, body);
    }
    return {
      stream: toPartStream(chunks, warnings, options.includeRawChunks === true, this.modelId, body),
      request: { body },
      response: { headers: servedHeaders(chunks.served) },
    };
  }
}

function callOptions(options: LanguageModelV3CallOptions): CallOptions {
  // The one caller header Detour honours, as the server does: the request id, for logs and events.
  return { signal: options.abortSignal, requestId: options.headers?.['x-request-id'] };
}

function toContent(response: ChatCompletion): LanguageModelV3Content[] {
  const message = response.choices[0]?.message;
  const content: LanguageModelV3Content[] = [];
  // A refusal is the model's answer too; dropping it would leave an empty, unexplained result.
  const text = message?.content ?? message?.refusal;
  if (typeof text === 'string' && text !== '') content.push({ type: 'text', text });
  for (const call of message?.tool_calls ?? []) {
    content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.function.name, input: call.function.arguments === '' ? '{}' : call.function.arguments });
  }
  return content;
}

function toPartStream(
  chunks: ResultStream<ChatCompletionChunk>,
  warnings: LanguageModelV3GenerateResult['warnings'],
  includeRaw: boolean,
  route: string,
  requestBody: unknown,
): ReadableStream<LanguageModelV3StreamPart> {
  const mapper = new ChunkPartMapper();
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<LanguageModelV3StreamPart>({
    start(controller) {
      controller.enqueue({ type: 'stream-start', warnings });
    },
    // A chunk may map to no part (a usage-only chunk): pull must not return before enqueuing
    // something, since the stream would not call it again for the reader that is waiting.
    async pull(controller) {
      for (;;) {
        let next: IteratorResult<ChatCompletionChunk>;
        try {
          next = await iterator.next();
        } catch (error) {
          if (error instanceof Error && error.name === 'AbortError') {
            controller.error(error);
            return;
          }
          // A failure after the stream started: say so, and finish as `error` so the SDK never takes the answer for whole.
          mapper.fail();
          controller.enqueue({ type: 'error', error: toApiCallError(error, route, requestBody) });
          for (const part of mapper.finish({ detour: servedMetadata(chunks.served) })) controller.enqueue(part);
          controller.close();
          return;
        }
        if (next.done) {
          for (const part of mapper.finish({ detour: servedMetadata(chunks.served) })) controller.enqueue(part);
          controller.close();
          return;
        }
        const parts = mapper.push(next.value);
        if (includeRaw) controller.enqueue({ type: 'raw', rawValue: next.value });
        for (const part of parts) controller.enqueue(part);
        if (includeRaw || parts.length > 0) return;
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
