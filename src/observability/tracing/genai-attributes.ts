import type { WireFormat } from '../../core/events.js';

/**
 * The OpenTelemetry GenAI semantic conventions Detour's spans follow
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/). These attributes are still
 * "development" in the registry, so their names are kept here, as the conventions advise,
 * rather than imported from the incubating entry point that may rename them.
 */
export const genAi = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestTopK: 'gen_ai.request.top_k',
  requestChoiceCount: 'gen_ai.request.choice.count',
  requestStream: 'gen_ai.request.stream',
  requestEncodingFormats: 'gen_ai.request.encoding_formats',
  embeddingsDimensionCount: 'gen_ai.embeddings.dimension.count',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
} as const;

/** The operation a request asks for (`gen_ai.operation.name`): `embeddings`, or by the client's format Gemini's `generate_content`, the others' `chat`. */
export function operationOf(format: WireFormat, isEmbeddings = false): string {
  if (isEmbeddings) return 'embeddings';
  return format === 'gemini' ? 'generate_content' : 'chat';
}

/** Known API hosts of OpenAI-compatible providers, to the registry's `gen_ai.provider.name` values. */
const providerByHost: ReadonlyArray<readonly [suffix: string, name: string]> = [
  ['api.openai.com', 'openai'],
  ['openai.azure.com', 'azure.ai.openai'],
  ['services.ai.azure.com', 'azure.ai.inference'],
  ['api.anthropic.com', 'anthropic'],
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
  ['aiplatform.googleapis.com', 'gcp.vertex_ai'],
  ['api.groq.com', 'groq'],
  ['api.deepseek.com', 'deepseek'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.x.ai', 'x_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.cohere.com', 'cohere'],
  ['api.cohere.ai', 'cohere'],
  ['amazonaws.com', 'aws.bedrock'],
];

/** By adapter type, when the host says nothing more (a self-hosted or simulated upstream speaks its type's protocol). */
const providerByType: Readonly<Record<string, string>> = {
  openai: 'openai',
  'azure-openai': 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
};

/**
 * `gen_ai.provider.name` for a provider: the registry's value for a known API host (an
 * OpenAI-compatible Groq is `groq`), else its adapter type's (`openai`, `azure.ai.openai`,
 * `anthropic`, `gcp.gemini`).
 */
export function providerNameOf(type: string, host: string | undefined): string {
  if (host !== undefined) {
    for (const [suffix, name] of providerByHost) if (host === suffix || host.endsWith(`.${suffix}`)) return name;
  }
  return providerByType[type] ?? type;
}

/** `server.address` and `server.port` of a base URL (the scheme's default port when it names none). */
export function serverOf(baseUrl: string): { address: string; port: number } | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  // An IPv6 literal is reported without its brackets, as the conventions show it.
  return { address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

type Attributes = Record<string, string | number | boolean | string[]>;

/**
 * The request parameters the conventions name, read from the client's body in its own format;
 * never its messages or any other content.
 */
export function requestParamsOf(format: WireFormat, body: Readonly<Record<string, unknown>>, isEmbeddings = false): Attributes {
  const params: Attributes = {};
  const put = (name: string, value: unknown, isInteger = false): void => {
    if (typeof value === 'number' && Number.isFinite(value) && (!isInteger || Number.isInteger(value))) params[name] = value;
  };
  if (isEmbeddings) {
    put(genAi.embeddingsDimensionCount, body.dimensions, true);
    if (typeof body.encoding_format === 'string' && body.encoding_format.length <= 32) params[genAi.requestEncodingFormats] = [body.encoding_format];
    return params;
  }
  if (format === 'gemini') {
    const config = body.generationConfig;
    if (typeof config === 'object' && config !== null) {
      const generation = config as Record<string, unknown>;
      put(genAi.requestMaxTokens, generation.maxOutputTokens, true);
      put(genAi.requestTemperature, generation.temperature);
      put(genAi.requestTopP, generation.topP);
      put(genAi.requestTopK, generation.topK);
      put(genAi.requestChoiceCount, generation.candidateCount, true);
    }
    return params;
  }
  const maxTokens = format === 'responses' ? body.max_output_tokens : format === 'openai' ? (body.max_completion_tokens ?? body.max_tokens) : body.max_tokens;
  put(genAi.requestMaxTokens, maxTokens, true);
  put(genAi.requestTemperature, body.temperature);
  put(genAi.requestTopP, body.top_p);
  if (format === 'anthropic') put(genAi.requestTopK, body.top_k, true);
  if (format === 'openai' && body.n !== 1) put(genAi.requestChoiceCount, body.n, true);
  return params;
}
