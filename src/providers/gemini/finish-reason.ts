import type { FinishReason } from '../types.js';

/**
 * Gemini's finish reasons in OpenAI's terms. Gemini has no "tool calls" reason: a call comes
 * back as STOP with functionCall parts, so the caller says whether the candidate made calls.
 * Reasons with no clean match (MALFORMED_FUNCTION_CALL, OTHER, …) end the answer as `stop`, as
 * docs/wire-formats.md §4 advises: the client keeps what was said rather than losing it to an
 * error.
 */
export function mapGeminiFinishReason(reason: string, hasToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (isFilterReason(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

const filterReasons = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'LANGUAGE']);

function isFilterReason(reason: string): boolean {
  return filterReasons.has(reason) || reason.startsWith('IMAGE_');
}

/** The reverse, for the simulator's Gemini face: what Gemini would have said. */
export function toGeminiFinishReason(reason: FinishReason): string {
  if (reason === 'length') return 'MAX_TOKENS';
  if (reason === 'content_filter') return 'SAFETY';
  return 'STOP';
}
