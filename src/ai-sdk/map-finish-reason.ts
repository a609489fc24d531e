import type { LanguageModelV3FinishReason } from '@ai-sdk/provider';
import type { FinishReason } from '../providers/types.js';

const unified: Readonly<Record<FinishReason, LanguageModelV3FinishReason['unified']>> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content-filter',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
};

/** An OpenAI finish reason in the AI SDK's terms, the raw value kept. */
export function mapFinishReason(reason: FinishReason | null | undefined): LanguageModelV3FinishReason {
  return { unified: reason ? (unified[reason] ?? 'other') : 'other', raw: reason ?? undefined };
}
