import { tryParseJson } from '../shared/json.js';
import type { ChatResponse, ToolCall } from '../types.js';
import { toStopReason } from './finish-reason.js';
import { toAnthropicUsage } from './usage.js';
import { directCaller, type AnthropicCaller, type AnthropicMessageResponse, type AnthropicToolUseBlock } from './wire.js';

/**
 * Anthropic ids read `msg_…`; an id from another format keeps its unique part under that prefix,
 * so logs can still match it to the upstream's.
 */
export function anthropicMessageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id.replace(/^chatcmpl-/, '')}`;
}

/**
 * A tool call's JSON-string arguments as a `tool_use` input. Arguments that are not valid JSON
 * (a model's slip) stay as the raw string rather than being replaced by `{}`, so nothing is lost.
 */
export function toolUseBlock(call: ToolCall): AnthropicToolUseBlock & { caller: AnthropicCaller } {
  const text = call.function.arguments;
  const input = text.trim() === '' ? {} : (tryParseJson(text) ?? text);
  return { type: 'tool_use', id: call.id, name: call.function.name, input, caller: directCaller };
}

/** A canonical chat completion (its first choice) as an Anthropic Message. */
export function toAnthropicMessage(response: ChatResponse): AnthropicMessageResponse {
  const choice = response.choices[0];
  const message = choice?.message;
  const content: AnthropicMessageResponse['content'] = [];
  const text = (message?.content ?? '') || (message?.refusal ?? '');
  if (text !== '') content.push({ type: 'text', text });
  for (const call of message?.tool_calls ?? []) content.push(toolUseBlock(call));
  return {
    id: anthropicMessageId(response.id),
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: toStopReason(choice?.finish_reason, typeof message?.refusal === 'string' && message.refusal !== ''),
    stop_sequence: null,
    usage: toAnthropicUsage(response.usage),
  };
}
