import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord } from '../shared/json.js';
import type { ChatResponse, FinishReason, ToolCall, Usage } from '../types.js';

/** A Response object's answer as a canonical chat completion, checked before it is believed. */
export function parseResponsesResponse(body: unknown, target: Target): ChatResponse {
  if (!isRecord(body) || body.object !== 'response' || !Array.isArray(body.output)) throw badResponse(target, 'a body that is not a Response object');
  if (body.status === 'failed') throw failedResponse(body, target);
  let text = '';
  const calls: ToolCall[] = [];
  for (const item of body.output) {
    if (!isRecord(item)) continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content) if (isRecord(part) && typeof part.text === 'string') text += part.text;
    } else if (item.type === 'function_call' && typeof item.name === 'string' && typeof item.call_id === 'string') {
      calls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : '{}' } });
    } else if (item.type === 'custom_tool_call' && typeof item.name === 'string' && typeof item.call_id === 'string') {
      calls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: JSON.stringify({ input: typeof item.input === 'string' ? item.input : '' }) } });
    }
  }
  const response: ChatResponse = {
    id: typeof body.id === 'string' ? body.id : 'resp',
    object: 'chat.completion',
    created: typeof body.created_at === 'number' ? body.created_at : Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : target.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text === '' && calls.length > 0 ? null : text, refusal: null, ...(calls.length > 0 ? { tool_calls: calls } : {}) }, finish_reason: finishOf(body, calls.length > 0), logprobs: null }],
  };
  const usage = readResponsesUsage(body);
  if (usage) response.usage = usage;
  return response;
}

export function finishOf(body: Record<string, unknown>, hasCalls: boolean): FinishReason {
  const reason = isRecord(body.incomplete_details) ? body.incomplete_details.reason : undefined;
  if (body.status === 'incomplete') return reason === 'content_filter' ? 'content_filter' : 'length';
  return hasCalls ? 'tool_calls' : 'stop';
}

/** Usage of a Response object (or of the `response` inside a stream's last event), in canonical terms. */
export function readResponsesUsage(body: unknown): Usage | undefined {
  const response = isRecord(body) && isRecord(body.response) ? body.response : body;
  if (!isRecord(response) || !isRecord(response.usage)) return undefined;
  const usage = response.usage;
  if (typeof usage.input_tokens !== 'number' || typeof usage.output_tokens !== 'number') return undefined;
  const result: Usage = { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens, total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : usage.input_tokens + usage.output_tokens };
  const cached = isRecord(usage.input_tokens_details) ? usage.input_tokens_details.cached_tokens : undefined;
  if (typeof cached === 'number') result.prompt_tokens_details = { cached_tokens: cached };
  const reasoning = isRecord(usage.output_tokens_details) ? usage.output_tokens_details.reasoning_tokens : undefined;
  if (typeof reasoning === 'number') result.completion_tokens_details = { reasoning_tokens: reasoning };
  return result;
}

function badResponse(target: Target, what: string): DetourError {
  return new DetourError({ kind: 'retryable', code: 'UPSTREAM_BAD_RESPONSE', target: target.id, message: `${target.id} answered 200 with ${what}` });
}

/** A response the upstream itself marked failed: its own error, retryable unless it blames the request. */
export function failedResponse(response: Record<string, unknown>, target: Target): DetourError {
  const error = isRecord(response.error) ? response.error : {};
  const message = typeof error.message === 'string' ? error.message : 'the response failed';
  const isClientFault = error.code === 'invalid_prompt' || error.type === 'invalid_request_error';
  return new DetourError({
    kind: isClientFault ? 'fatal' : 'retryable',
    code: isClientFault ? 'UPSTREAM_INVALID_REQUEST' : 'UPSTREAM_SERVER_ERROR',
    status: isClientFault ? 400 : undefined,
    target: target.id,
    message: `${target.id} reported a failed response: ${message}`,
  });
}
