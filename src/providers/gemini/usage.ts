import { isRecord } from '../shared/json.js';
import type { Usage } from '../types.js';
import type { GeminiUsageMetadata } from './schema.js';

/**
 * `usageMetadata` in OpenAI's terms. Proto3 JSON leaves out zero counts, so an absent count is
 * 0; metadata without any count (a stream's early chunks on Vertex) is no usage at all.
 * Thinking is billed as output: completion = candidates + thoughts, which keeps
 * prompt + completion equal to Gemini's own total.
 */
export function readGeminiUsageMetadata(metadata: unknown): Usage | undefined {
  if (!isRecord(metadata)) return undefined;
  const prompt = count(metadata.promptTokenCount);
  const total = count(metadata.totalTokenCount);
  if (prompt === undefined && total === undefined) return undefined;
  const toolPrompt = count(metadata.toolUsePromptTokenCount) ?? 0;
  const thoughts = count(metadata.thoughtsTokenCount);
  const cached = count(metadata.cachedContentTokenCount);
  const promptTokens = (prompt ?? 0) + toolPrompt;
  const completionTokens = (count(metadata.candidatesTokenCount) ?? 0) + (thoughts ?? 0);
  const usage: Usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: total ?? promptTokens + completionTokens };
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts !== undefined) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

export function readGeminiUsage(body: unknown): Usage | undefined {
  return isRecord(body) ? readGeminiUsageMetadata(body.usageMetadata) : undefined;
}

/** The reverse, for the simulator's Gemini face. */
export function toGeminiUsageMetadata(usage: Usage): GeminiUsageMetadata {
  const thoughts = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    promptTokenCount: usage.prompt_tokens,
    candidatesTokenCount: Math.max(0, usage.completion_tokens - thoughts),
    totalTokenCount: usage.total_tokens,
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
    ...(cached > 0 ? { cachedContentTokenCount: cached } : {}),
  };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
