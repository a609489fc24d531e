import type { LanguageModelV3Usage } from '@ai-sdk/provider';
import type { Usage } from '../providers/types.js';

/** OpenAI-shaped usage (whatever the upstream's format was, Detour reports it so) in the AI SDK's terms. */
export function convertUsage(usage: Usage | null | undefined): LanguageModelV3Usage {
  if (!usage) {
    return {
      inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
    };
  }
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  return {
    inputTokens: { total: usage.prompt_tokens, noCache: usage.prompt_tokens - cached, cacheRead: cached, cacheWrite: undefined },
    outputTokens: { total: usage.completion_tokens, text: usage.completion_tokens - reasoning, reasoning },
    raw: { ...usage },
  };
}
