import type { EmbeddingModelV3, EmbeddingModelV3CallOptions, EmbeddingModelV3Result } from '@ai-sdk/provider';
import type { Gateway } from '../library/gateway.js';
import { servedHeaders, servedMetadata } from './served-metadata.js';
import { toApiCallError } from './to-api-call-error.js';

/** OpenAI's limit of inputs per embeddings call; the AI SDK splits larger `embedMany` calls. */
const maxInputsPerCall = 2048;

/**
 * A route of `kind: embeddings` as an AI SDK embedding model (`embed`, `embedMany`): each call is
 * `gateway.embeddings`, with Detour's failover between targets of the same vectors.
 */
export class DetourEmbeddingModel implements EmbeddingModelV3 {
  readonly specificationVersion = 'v3' as const;
  readonly maxEmbeddingsPerCall = maxInputsPerCall;
  readonly supportsParallelCalls = true;

  constructor(
    private readonly gateway: Gateway,
    readonly modelId: string,
    readonly provider: string,
  ) {}

  async doEmbed(options: EmbeddingModelV3CallOptions): Promise<EmbeddingModelV3Result> {
    const body = { model: this.modelId, input: options.values, encoding_format: 'float' as const };
    try {
      const { response, served } = await this.gateway.embeddings(body, { signal: options.abortSignal });
      return {
        embeddings: response.data.map((item) => item.embedding as number[]),
        usage: { tokens: response.usage.prompt_tokens },
        providerMetadata: { detour: servedMetadata(served) },
        response: { headers: servedHeaders(served), body: response },
        warnings: [],
      };
    } catch (error) {
      throw toApiCallError(error, this.modelId, body);
    }
  }
}
