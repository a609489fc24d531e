import { isRecord } from '../shared/json.js';
import type { Usage } from '../types.js';
import type { AnthropicUsage } from './wire.js';

function count(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Anthropic usage in OpenAI's terms. Anthropic's `input_tokens` excludes cache reads and writes,
 * so the prompt is the sum of the three; the cache reads are OpenAI's `cached_tokens`.
 * Undefined when the record has no token counts at all.
 */
export function fromAnthropicUsage(usage: unknown): Usage | undefined {
  if (!isRecord(usage)) return undefined;
  const input = count(usage, 'input_tokens');
  const output = count(usage, 'output_tokens');
  if (input === undefined && output === undefined) return undefined;
  const cacheRead = count(usage, 'cache_read_input_tokens');
  const promptTokens = (input ?? 0) + (count(usage, 'cache_creation_input_tokens') ?? 0) + (cacheRead ?? 0);
  const completionTokens = output ?? 0;
  const result: Usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  if (cacheRead !== undefined) result.prompt_tokens_details = { cached_tokens: cacheRead };
  const details = usage.output_tokens_details;
  const thinking = isRecord(details) ? count(details, 'thinking_tokens') : undefined;
  if (thinking !== undefined) result.completion_tokens_details = { reasoning_tokens: thinking };
  return result;
}

/**
 * Merges a stream's cumulative usage: `message_delta` repeats the whole-message totals and omits
 * the counters that do not apply, so present fields overwrite and absent ones are kept.
 */
export function mergeAnthropicUsage(previous: Record<string, unknown> | undefined, next: unknown): Record<string, unknown> | undefined {
  if (!isRecord(next)) return previous;
  const merged: Record<string, unknown> = { ...previous };
  for (const [key, value] of Object.entries(next)) if (value !== null && value !== undefined) merged[key] = value;
  return merged;
}

/** Canonical usage as Anthropic reports it; cached tokens move out of the input count again. */
export function toAnthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - (cached ?? 0)),
    output_tokens: usage?.completion_tokens ?? 0,
    // OpenAI-shaped usage does not report cache writes: unknown, not zero.
    cache_creation_input_tokens: null,
    cache_read_input_tokens: cached ?? null,
  };
}
