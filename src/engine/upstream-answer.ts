import { isUtf8 } from 'node:buffer';
import { DetourError } from '../core/errors.js';
import type { Target } from '../core/settings.js';
import type { ChatResponse, ProviderAdapter } from '../providers/types.js';
import type { EmbeddingsAnswer, EmbeddingsRequest } from '../providers/embeddings/index.js';
import { checkEmbeddingsAnswer } from './embeddings-call.js';
import { hasUtf8Bom } from '../providers/shared/input-checks.js';
import { badResponse } from './upstream-body.js';

export type CheckedAnswer =
  | {
      /** The body, parsed once. */
      json: unknown;
      /** The same answer in canonical form, checked by the adapter's own parser. */
      response: ChatResponse;
    }
  /** An embeddings call's answer, checked against its request (one vector per input, one size). */
  | { json: unknown; embeddings: EmbeddingsAnswer };

/**
 * Checks a 200 before it is called a success: valid UTF-8 JSON, not an error object, of the
 * shape the adapter's format promises. Anything else (HTML, an empty body, compressed bytes
 * without `content-encoding`, `{"error": …}`) is `UPSTREAM_BAD_RESPONSE`: it fails over and
 * counts against the target's breaker.
 */
export function checkAnswer(adapter: ProviderAdapter, body: Buffer, target: Target, embeddings?: EmbeddingsRequest): CheckedAnswer {
  if (body.length === 0) throw badResponse(target.id, 'answered 200 with an empty body');
  let json: unknown;
  try {
    // Validated, then decoded by Buffer's own UTF-8 path: a strict TextDecoder built per answer cost more than both.
    if (!isUtf8(body)) throw new Error('not UTF-8');
    json = JSON.parse(body.toString('utf8', hasUtf8Bom(body) ? 3 : 0));
  } catch {
    throw badResponse(target.id, `answered 200 with a body that is not JSON (${describeStart(body)})`);
  }
  if (typeof json === 'object' && json !== null && 'error' in json && (json as { error: unknown }).error) {
    throw badResponse(target.id, `answered 200 with an error object: ${errorMessageOf((json as { error: unknown }).error)}`);
  }
  try {
    if (embeddings) return { json, embeddings: checkEmbeddingsAnswer(embeddings, json, target) };
    return { json, response: adapter.parseResponse(json, target) };
  } catch (error) {
    if (error instanceof DetourError && error.code === 'UPSTREAM_BAD_RESPONSE') throw badResponse(target.id, error.message.replace(`${target.id} `, ''));
    if (error instanceof DetourError) throw error;
    throw badResponse(target.id, 'answered 200 with a body of the wrong shape', error);
  }
}

/** A short, safe description of what came instead of JSON (never the body itself: it may echo a key). */
function describeStart(body: Buffer): string {
  if (body[0] === 0x1f && body[1] === 0x8b) return 'gzip bytes without content-encoding';
  const text = body.subarray(0, 16).toString('latin1');
  if (/^\s*</.test(text)) return 'HTML or XML';
  return `${body.length} bytes`;
}

function errorMessageOf(error: unknown): string {
  const message = typeof error === 'string' ? error : typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message.slice(0, 200) : 'no message';
}
