import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { geminiApiRoot, geminiHeaders, geminiModelResource } from '../gemini/url.js';
import { isRecord } from '../shared/json.js';
import type { EmbeddingsAdapter, EmbeddingsAnswer, EmbeddingsRequest, Vector } from './types.js';
import { checkVectors, estimateUsage, requestedSize, usageOf } from './vectors.js';

/** Gemini refuses a larger batch (`at most 100 requests can be in one batch`): such a call skips the target. */
export const maxGeminiBatch = 100;

/** Fields of an OpenAI embeddings body Gemini has an equivalent for, or that do not change the vectors (`user`). */
const knownFields = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);

/**
 * Gemini's embeddings: `:embedContent` for one input, `:batchEmbedContents` for several (in
 * input order), `dimensions` as `outputDimensionality`, the key in `x-goog-api-key`. Gemini
 * takes text only: a token array, or a field it has no equivalent for, skips the target.
 */
export const geminiEmbeddings: EmbeddingsAdapter = {
  buildRequest(request, target) {
    const unsupported = Object.keys(request.body).filter((key) => !knownFields.has(key) && request.body[key] !== undefined && request.body[key] !== null);
    if (unsupported.length > 0) throw cannotExpress(target, unsupported.map((key) => `"${key}"`).join(', '));
    if (request.inputs.length > maxGeminiBatch) throw cannotExpress(target, `more than ${maxGeminiBatch} inputs in one call (it takes at most ${maxGeminiBatch})`);
    const texts = request.inputs.map((input) => {
      if (typeof input !== 'string') throw cannotExpress(target, 'token inputs (it takes text only)');
      return input;
    });
    const dimensions = requestedSize(request, target);
    const resource = geminiModelResource(target.model);
    const one = (text: string): Record<string, unknown> => ({ content: { parts: [{ text }] }, ...(dimensions === undefined ? {} : { outputDimensionality: dimensions }) });
    const isSingle = texts.length === 1;
    const body = isSingle ? one(texts[0] as string) : { requests: texts.map((text) => ({ model: resource, ...one(text) })) };
    return {
      url: `${geminiApiRoot(target.provider.baseUrl)}/${resource}:${isSingle ? 'embedContent' : 'batchEmbedContents'}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...geminiHeaders(target) },
      body: JSON.stringify(body),
    };
  },
  parseResponse: parseGeminiEmbeddings,
};

function cannotExpress(target: Target, what: string): DetourError {
  return new DetourError({ kind: 'failover', code: 'UNSUPPORTED_FEATURE', status: 400, target: target.id, message: `${target.id} (Gemini embeddings) cannot express ${what}` });
}

function bad(target: Target, message: string): DetourError {
  return new DetourError({ kind: 'failover', code: 'UPSTREAM_BAD_RESPONSE', status: 502, target: target.id, message: `${target.id} ${message}` });
}

/** `{ embedding: { values } }` for one input, `{ embeddings: [{ values }] }` for a batch. */
export function parseGeminiEmbeddings(json: unknown, request: EmbeddingsRequest, target: Target): EmbeddingsAnswer {
  if (!isRecord(json)) throw bad(target, 'answered with something that is not an embeddings object');
  const items: unknown[] | undefined = request.inputs.length === 1 && isRecord(json.embedding) ? [json.embedding] : Array.isArray(json.embeddings) ? json.embeddings : undefined;
  if (!items) throw bad(target, `answered without ${request.inputs.length === 1 ? '"embedding"' : '"embeddings"'}`);
  const vectors: Vector[] = items.map((item, index) => {
    if (!isRecord(item) || !Array.isArray(item.values)) throw bad(target, `answered an embedding without "values" (at index ${index})`);
    return { type: 'float', values: item.values as number[] };
  });
  const dimensions = checkVectors(vectors, request, requestedSize(request, target), target);
  const metadata = json.usageMetadata;
  const usage = isRecord(metadata) ? usageOf(metadata.promptTokenCount, metadata.totalTokenCount) : undefined;
  return { vectors, dimensions, model: target.model, usage: usage ?? estimateUsage(request.inputs), isUsageEstimated: usage === undefined, encoding: request.encoding, isClientShape: false };
}
