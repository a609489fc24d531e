import type { FinishReason } from '../types.js';
import type { AnthropicStopReason } from './wire.js';

/**
 * Anthropic's `stop_reason` in OpenAI's terms (docs/wire-formats.md §4). `pause_turn` (a long
 * server-tool turn paused) has no equivalent and reads as a normal stop; a missing or unknown
 * reason too, since the answer did end.
 */
export function toFinishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * OpenAI's `finish_reason` as an Anthropic `stop_reason`. OpenAI does not say which stop sequence
 * matched, so a `stop` is always `end_turn`; a refusal the model wrote (`refusal` field) ends as
 * `refusal`, as Anthropic's own refusals do.
 */
export function toStopReason(finishReason: FinishReason | null | undefined, isRefusal: boolean): AnthropicStopReason {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return isRefusal ? 'refusal' : 'end_turn';
  }
}
