import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, stringField } from '../shared/json.js';
import type { ChatResponse, ResponseMessage, ToolCall, Usage } from '../types.js';
import { toFinishReason } from './finish-reason.js';
import { fromAnthropicUsage } from './usage.js';

/**
 * An Anthropic Message as a canonical chat completion: text blocks joined into `content`,
 * `tool_use` blocks as `tool_calls` with JSON-string arguments. Thinking and server-tool blocks
 * have no canonical slot and are not shown (a translated request never asks for them).
 * A refusal carries Anthropic's explanation, when it gives one, in OpenAI's `refusal` field.
 */
export function parseAnthropicResponse(body: unknown, target: Target): ChatResponse {
  if (!isRecord(body) || body.type !== 'message' || !Array.isArray(body.content)) {
    throw new DetourError({
      kind: 'failover',
      code: 'UPSTREAM_BAD_RESPONSE',
      status: 502,
      target: target.id,
      message: `${target.id} answered 200 with a body that is not an Anthropic message`,
    });
  }
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of body.content) {
    if (!isRecord(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') text = (text ?? '') + block.text;
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: stringField(block, 'id') ?? `toolu_${toolCalls.length}`,
        type: 'function',
        function: { name: stringField(block, 'name') ?? '', arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const finishReason = toFinishReason(body.stop_reason);
  const message: ResponseMessage = { role: 'assistant', content: text, refusal: finishReason === 'content_filter' ? refusalExplanation(body) : null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const response: ChatResponse = {
    id: stringField(body, 'id') ?? '',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: stringField(body, 'model') ?? target.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
  };
  const usage = fromAnthropicUsage(body.usage);
  if (usage) response.usage = usage;
  return response;
}

/** `stop_details.explanation` of a refusal (present on newer models), else null. */
export function refusalExplanation(holder: Record<string, unknown>): string | null {
  return stringField(holder.stop_details, 'explanation') ?? null;
}

export function readAnthropicUsage(body: unknown): Usage | undefined {
  return isRecord(body) ? fromAnthropicUsage(body.usage) : undefined;
}
