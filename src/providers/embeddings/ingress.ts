import { invalidRequest } from '../../core/errors.js';
import { isRecord } from '../shared/json.js';
import type { EmbeddingInput, EmbeddingsAnswer, EmbeddingsRequest } from './types.js';
import { encodeVector } from './vectors.js';

/** OpenAI's limits: at most 2,048 inputs a call; a vector size is a positive integer (bounded here for sanity). */
export const maxEmbeddingInputs = 2048;
const maxDimensions = 65_536;

/**
 * Validates a `POST /v1/embeddings` body in OpenAI's shape: `input` as a string, an array of
 * strings, an array of tokens or an array of token arrays; `encoding_format` `float` (default)
 * or `base64`; `dimensions`; `user`. Throws a fatal 400 naming the parameter at fault.
 */
export function readEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
  const { model, input, encoding_format: encoding, dimensions, user } = body;
  if (typeof model !== 'string' || model === '') throw invalidRequest('model: Field required (a non-empty string).', 'model');
  if (encoding !== undefined && encoding !== null && encoding !== 'float' && encoding !== 'base64') {
    throw invalidRequest(`encoding_format: must be "float" or "base64", not ${JSON.stringify(encoding)}.`, 'encoding_format');
  }
  if (dimensions !== undefined && dimensions !== null && !(Number.isInteger(dimensions) && (dimensions as number) > 0 && (dimensions as number) <= maxDimensions)) {
    throw invalidRequest(`dimensions: must be an integer from 1 to ${maxDimensions}.`, 'dimensions');
  }
  if (user !== undefined && user !== null && typeof user !== 'string') throw invalidRequest('user: must be a string.', 'user');
  return {
    route: model,
    inputs: readInputs(input),
    encoding: encoding === 'base64' ? 'base64' : 'float',
    dimensions: typeof dimensions === 'number' ? dimensions : undefined,
    user: typeof user === 'string' ? user : undefined,
    body,
  };
}

function readInputs(input: unknown): EmbeddingInput[] {
  if (typeof input === 'string') {
    if (input === '') throw invalidRequest('input: cannot be an empty string.', 'input');
    return [input];
  }
  if (!Array.isArray(input)) throw invalidRequest('input: Field required (a string, an array of strings, an array of tokens or an array of token arrays).', 'input');
  if (input.length === 0) throw invalidRequest('input: cannot be an empty array.', 'input');
  if (input.length > maxEmbeddingInputs && typeof input[0] !== 'number') throw invalidRequest(`input: at most ${maxEmbeddingInputs} inputs per request.`, 'input');
  // One array of tokens is one input; an array of strings or of token arrays is many.
  if (input.every(isToken)) return [input as number[]];
  // Strings, or token arrays: the kind of the first item is every item's (OpenAI's schema has no mix).
  const isText = typeof input[0] === 'string';
  return input.map((item: unknown, index) => {
    if (isText && typeof item === 'string') {
      if (item === '') throw invalidRequest(`input[${index}]: cannot be an empty string.`, `input[${index}]`);
      return item;
    }
    if (!isText && Array.isArray(item) && item.length > 0 && item.every(isToken)) return item as number[];
    throw invalidRequest(`input[${index}]: must be ${isText ? 'a non-empty string, as input[0] is' : 'a non-empty array of tokens (integers, 0 or more)'}.`, `input[${index}]`);
  });
}

function isToken(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** The answer in OpenAI's shape and the client's encoding. */
export function encodeEmbeddingsResponse(answer: EmbeddingsAnswer): string {
  return JSON.stringify({
    object: 'list',
    data: answer.vectors.map((vector, index) => ({ object: 'embedding', index, embedding: encodeVector(vector, answer.encoding) })),
    model: answer.model,
    usage: { prompt_tokens: answer.usage.prompt_tokens, total_tokens: answer.usage.total_tokens },
  });
}
