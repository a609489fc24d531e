import type { Target } from '../../core/settings.js';
import { azureApiVersion, azureOpenAiDialect, openAiDialect, type OpenAiDialect } from '../openai/request.js';
import { isRecord, joinUrl } from '../shared/json.js';
import type { EmbeddingsAdapter, EmbeddingsAnswer, EmbeddingsRequest, Vector } from './types.js';
import { checkVectors, estimateUsage, requestedSize, usageOf } from './vectors.js';
import { DetourError } from '../../core/errors.js';

/**
 * OpenAI's `POST /v1/embeddings`, and every vendor that copies it. The client's body goes on
 * with only the model replaced (and the target's configured `dimensions` when the client gave
 * none), so vendor fields pass through as they do for chat; the answer is checked, then passed on
 * as it came when it is already in the client's encoding.
 */
function createOpenAiEmbeddings(dialect: OpenAiDialect, url: (target: Target) => string): EmbeddingsAdapter {
  return {
    buildRequest(request, target) {
      const dimensions = requestedSize(request, target);
      const body: Record<string, unknown> = { ...request.body, model: target.model, encoding_format: request.encoding };
      if (dimensions !== undefined) body.dimensions = dimensions;
      return { url: url(target), method: 'POST', headers: { 'content-type': 'application/json', ...target.provider.headers, ...dialect.authHeaders(target) }, body: JSON.stringify(body) };
    },
    parseResponse: parseOpenAiEmbeddings,
  };
}

export const openAiEmbeddings = createOpenAiEmbeddings(openAiDialect, (target) => joinUrl(target.provider.baseUrl, 'embeddings'));

/** Azure names the deployment in the URL (`/openai/deployments/{deployment}/embeddings?api-version=`) and takes the key as `api-key`. */
export const azureOpenAiEmbeddings = createOpenAiEmbeddings(
  azureOpenAiDialect,
  (target) => `${joinUrl(target.provider.baseUrl, `openai/deployments/${encodeURIComponent(target.model)}/embeddings`)}?api-version=${azureApiVersion(target)}`,
);

function bad(target: Target, message: string): DetourError {
  return new DetourError({ kind: 'failover', code: 'UPSTREAM_BAD_RESPONSE', status: 502, target: target.id, message: `${target.id} ${message}` });
}

/** `{ object: "list", data: [{ object: "embedding", index, embedding }], model, usage }`, checked item by item. */
export function parseOpenAiEmbeddings(json: unknown, request: EmbeddingsRequest, target: Target): EmbeddingsAnswer {
  if (!isRecord(json) || !Array.isArray(json.data)) throw bad(target, 'answered without a "data" list of embeddings');
  const slots = new Array<Vector | undefined>(json.data.length);
  let isInOrder = true;
  for (const [position, item] of json.data.entries()) {
    if (!isRecord(item)) throw bad(target, `answered an embedding that is not an object (at position ${position})`);
    const index = item.index ?? position;
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= slots.length || slots[index as number] !== undefined) {
      throw bad(target, `answered an embedding with a missing or repeated index (at position ${position})`);
    }
    if (index !== position) isInOrder = false;
    const embedding = item.embedding;
    const vector: Vector | undefined = Array.isArray(embedding) ? { type: 'float', values: embedding as number[] } : typeof embedding === 'string' ? { type: 'base64', base64: embedding } : undefined;
    if (!vector) throw bad(target, `answered an embedding without a vector (at index ${String(index)})`);
    slots[index as number] = vector;
  }
  const vectors = slots as Vector[];
  const dimensions = checkVectors(vectors, request, requestedSize(request, target), target);
  const usage = isRecord(json.usage) ? usageOf(json.usage.prompt_tokens, json.usage.total_tokens) : undefined;
  const isClientEncoding = vectors.every((vector) => (vector.type === 'base64') === (request.encoding === 'base64'));
  return {
    vectors,
    dimensions,
    model: typeof json.model === 'string' ? json.model : target.model,
    usage: usage ?? estimateUsage(request.inputs),
    isUsageEstimated: usage === undefined,
    encoding: request.encoding,
    // Out of order, or without usage, it is written again so that the client gets what OpenAI would send.
    isClientShape: isInOrder && isClientEncoding && usage !== undefined,
  };
}
