import { createHash } from 'node:crypto';
import { seededRandom } from '../core/clock.js';
import { floatsToBase64, readEmbeddingsRequest, type EmbeddingInput } from '../providers/embeddings/index.js';
import { isRecord } from '../providers/shared/json.js';
import type { SimEndpoint } from './endpoints.js';
import { azureOpenAiEndpoint, geminiEndpoint, openAiEndpoint } from './endpoints.js';
import { estimateTokens } from './answer.js';
import { maxGeminiBatch } from '../providers/embeddings/gemini.js';

/** One embeddings API the simulator imitates; errors and keys as its chat face of the same provider. */
export interface SimEmbeddingsFace {
  /** The chat face whose error format and key header this face shares. */
  endpoint: SimEndpoint;
  match(method: string, path: string, query: URLSearchParams): { model?: string; isBatch?: boolean } | undefined;
  /** The answer to a parsed body, or an error to send. */
  answer(body: unknown, model: string | undefined, matched: { model?: string; isBatch?: boolean }): { json: unknown } | { error: string };
}

/** Vector sizes of well-known models when the caller asks for none; anything else gets 16. */
const defaultSizes: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'gemini-embedding-001': 3072,
  'text-embedding-004': 768,
};
const fallbackSize = 16;

/**
 * A deterministic unit vector for (model, input): the same on every face, so that two providers
 * of one model give identical vectors, as a failover between them must. Each value is a float32,
 * so that float and base64 answers decode to the very same numbers.
 */
export function simVector(model: string, input: EmbeddingInput, size: number): number[] {
  const text = typeof input === 'string' ? input : `tokens:${input.join(',')}`;
  const seed = createHash('sha256').update(`${model.replace(/^models\//, '')}\u0000${text}`).digest().readUInt32LE(0);
  const random = seededRandom(seed);
  const values = Array.from({ length: size }, () => random() * 2 - 1);
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0)) || 1;
  return values.map((value) => Math.fround(value / norm));
}

function sizeFor(model: string, asked: unknown): number {
  return typeof asked === 'number' ? asked : (defaultSizes[model.replace(/^models\//, '')] ?? fallbackSize);
}

function tokensOf(input: EmbeddingInput): number {
  return typeof input === 'string' ? estimateTokens(input) : input.length;
}

/** OpenAI's (and Azure's) answer: the request's encoding, usage counted. */
function openAiAnswer(body: unknown, model: string | undefined): { json: unknown } | { error: string } {
  let request;
  try {
    request = readEmbeddingsRequest(model === undefined ? body : { ...(body as object), model });
  } catch (error) {
    return { error: error instanceof Error ? error.message : 'invalid request' };
  }
  const size = sizeFor(request.route, request.dimensions);
  const tokens = request.inputs.reduce((sum, input) => sum + tokensOf(input), 0);
  return {
    json: {
      object: 'list',
      data: request.inputs.map((input, index) => {
        const vector = simVector(request.route, input, size);
        return { object: 'embedding', index, embedding: request.encoding === 'base64' ? floatsToBase64(vector) : vector };
      }),
      model: request.route,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

/** The text of a Gemini `content`, or undefined when it has none. */
function geminiText(content: unknown): string | undefined {
  if (!isRecord(content) || !Array.isArray(content.parts)) return undefined;
  const texts = content.parts.map((part: unknown) => (isRecord(part) && typeof part.text === 'string' ? part.text : undefined));
  return texts.length > 0 && texts.every((text) => text !== undefined) ? texts.join('') : undefined;
}

/** Gemini's `:embedContent` (`{ embedding }`) and `:batchEmbedContents` (`{ embeddings }`, each request naming the URL's model). */
function geminiAnswer(body: unknown, model: string, isBatch: boolean): { json: unknown } | { error: string } {
  if (!isRecord(body)) return { error: 'Invalid JSON payload received.' };
  const one = (request: unknown): { values: number[] } | string => {
    if (!isRecord(request)) return 'each request must be an object';
    const text = geminiText(request.content);
    if (text === undefined) return '* EmbedContentRequest.content: contents must have text parts';
    return { values: simVector(model, text, sizeFor(model, request.outputDimensionality)) };
  };
  if (!isBatch) {
    const embedding = one(body);
    return typeof embedding === 'string' ? { error: embedding } : { json: { embedding } };
  }
  if (!Array.isArray(body.requests) || body.requests.length === 0) return { error: '* BatchEmbedContentsRequest.requests: must not be empty' };
  if (body.requests.length > maxGeminiBatch) return { error: `* BatchEmbedContentsRequest.requests: at most ${maxGeminiBatch} requests can be in one batch` };
  const embeddings = [];
  for (const request of body.requests) {
    if (isRecord(request) && request.model !== `models/${model}`) return { error: `* BatchEmbedContentsRequest.requests[].model: must be models/${model}` };
    const embedding = one(request);
    if (typeof embedding === 'string') return { error: embedding };
    embeddings.push(embedding);
  }
  return { json: { embeddings } };
}

const azureEmbeddingsPath = /^\/openai\/deployments\/([^/]+)\/embeddings$/;
const geminiEmbeddingsPath = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(embedContent|batchEmbedContents)$/;

export const simEmbeddingsFaces: readonly SimEmbeddingsFace[] = [
  {
    endpoint: openAiEndpoint,
    match: (method, path) => (method === 'POST' && (path === '/v1/embeddings' || path === '/embeddings') ? {} : undefined),
    answer: (body) => openAiAnswer(body, undefined),
  },
  {
    endpoint: azureOpenAiEndpoint,
    match: (method, path, query) => {
      const deployment = method === 'POST' && query.has('api-version') ? azureEmbeddingsPath.exec(path)?.[1] : undefined;
      return deployment === undefined ? undefined : { model: decodeURIComponent(deployment) };
    },
    // The deployment stands in for the model, as in the chat face.
    answer: (body, model) => openAiAnswer(body, model),
  },
  {
    endpoint: geminiEndpoint,
    match: (method, path) => {
      const found = method === 'POST' ? geminiEmbeddingsPath.exec(path) : null;
      return found?.[1] ? { model: decodeURIComponent(found[1]), isBatch: found[2] === 'batchEmbedContents' } : undefined;
    },
    answer: (body, model, matched) => geminiAnswer(body, model ?? '', matched.isBatch === true),
  },
];
