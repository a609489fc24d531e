import type { EmbeddingInput, EmbeddingsRequest, Vector } from './types.js';
import type { Target } from '../../core/settings.js';
import type { Usage } from '../types.js';
import { DetourError } from '../../core/errors.js';

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/** OpenAI's `base64` encoding: the vector's little-endian float32 bytes, as its SDKs decode them. */
export function floatsToBase64(values: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(values.length * 4);
  for (let index = 0; index < values.length; index++) bytes.writeFloatLE(values[index] as number, index * 4);
  return bytes.toString('base64');
}

export function base64ToFloats(base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  const values = new Array<number>(bytes.length >> 2);
  for (let index = 0; index < values.length; index++) values[index] = bytes.readFloatLE(index * 4);
  return values;
}

/** A vector's size, or undefined when it is not one (not numbers, not base64 of whole float32s). */
export function vectorSize(vector: Vector): number | undefined {
  if (vector.type === 'float') {
    for (const value of vector.values) if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
    return vector.values.length;
  }
  const { base64 } = vector;
  if (base64.length % 4 !== 0 || !base64Pattern.test(base64)) return undefined;
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const bytes = (base64.length / 4) * 3 - padding;
  return bytes % 4 === 0 ? bytes / 4 : undefined;
}

/** A vector as a JSON value in the client's encoding: converted only when the upstream sent the other one. */
export function encodeVector(vector: Vector, encoding: 'float' | 'base64'): readonly number[] | string {
  if (encoding === 'base64') return vector.type === 'base64' ? vector.base64 : floatsToBase64(vector.values);
  return vector.type === 'float' ? vector.values : base64ToFloats(vector.base64);
}

function bad(target: Target, message: string): DetourError {
  return new DetourError({ kind: 'failover', code: 'UPSTREAM_BAD_RESPONSE', status: 502, target: target.id, message: `${target.id} ${message}` });
}

/**
 * Checks vectors before they are called an answer: one per input, each a vector, all of one
 * size, and that size the one asked for. Returns the size.
 */
export function checkVectors(vectors: readonly Vector[], request: EmbeddingsRequest, expectedSize: number | undefined, target: Target): number {
  if (vectors.length !== request.inputs.length) throw bad(target, `answered ${vectors.length} embeddings for ${request.inputs.length} inputs`);
  let size: number | undefined;
  for (const [index, vector] of vectors.entries()) {
    const found = vectorSize(vector);
    if (found === undefined || found === 0) throw bad(target, `answered an embedding that is not a vector (at index ${index})`);
    size ??= found;
    if (found !== size) throw bad(target, `answered embeddings of different sizes (${size} and ${found})`);
  }
  if (size === undefined) throw bad(target, 'answered no embeddings');
  if (expectedSize !== undefined && size !== expectedSize) throw bad(target, `answered ${size}-dimensional embeddings where ${expectedSize} were asked for`);
  return size;
}

/** The size a target is asked for: the client's, else the target's configured `dimensions`. */
export function requestedSize(request: EmbeddingsRequest, target: Target): number | undefined {
  return request.dimensions ?? target.settings.dimensions;
}

/** About four characters a token for text, exact for token arrays: for an upstream that reports no usage. */
export function estimateUsage(inputs: readonly EmbeddingInput[]): Usage {
  let tokens = 0;
  for (const input of inputs) tokens += typeof input === 'string' ? Math.max(1, Math.ceil(input.length / 4)) : input.length;
  return { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens };
}

/** An upstream's `{ prompt_tokens, total_tokens }` (or Gemini's counts), when it is one. */
export function usageOf(promptTokens: unknown, totalTokens: unknown): Usage | undefined {
  if (typeof promptTokens !== 'number' || !Number.isFinite(promptTokens) || promptTokens < 0) return undefined;
  const total = typeof totalTokens === 'number' && Number.isFinite(totalTokens) && totalTokens >= promptTokens ? totalTokens : promptTokens;
  return { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: total };
}
