import { randomUUID } from 'node:crypto';
import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, stringField } from '../shared/json.js';
import type { ChatResponse, FinishReason, ToolCall } from '../types.js';
import { mapGeminiFinishReason } from './finish-reason.js';
import { candidateParts, readResponsePart, ToolCallIds } from './parts.js';
import { readGeminiUsage } from './usage.js';

/** A whole `generateContent` answer as a chat completion. */
export function parseGeminiResponse(body: unknown, target: Target): ChatResponse {
  const candidates = isRecord(body) && Array.isArray(body.candidates) ? body.candidates : undefined;
  const blockReason = isRecord(body) ? promptBlockReason(body) : undefined;
  if (!isRecord(body) || (candidates === undefined && blockReason === undefined)) {
    throw new DetourError({
      kind: 'failover',
      code: 'UPSTREAM_BAD_RESPONSE',
      status: 502,
      target: target.id,
      message: `${target.id} answered 200 with a body that is not a GenerateContentResponse`,
    });
  }
  const responseId = stringField(body, 'responseId');
  const ids = new ToolCallIds(responseId);
  const choices: ChatResponse['choices'] =
    candidates === undefined
      ? // The prompt itself was blocked: there is no candidate, only the reason.
        [{ index: 0, message: { role: 'assistant', content: null, refusal: null }, finish_reason: 'content_filter', logprobs: null }]
      : candidates.map((candidate, position) => candidateToChoice(candidate, position, ids));
  const usage = readGeminiUsage(body);
  return {
    id: responseId ?? `gemini-${randomUUID()}`,
    object: 'chat.completion',
    created: createdSeconds(body),
    model: stringField(body, 'modelVersion') ?? target.model,
    choices,
    ...(usage ? { usage } : {}),
  };
}

function candidateToChoice(candidate: unknown, position: number, ids: ToolCallIds): ChatResponse['choices'][number] {
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const raw of candidateParts(candidate)) {
    const part = readResponsePart(raw);
    if (part.type === 'text') text = (text ?? '') + part.text;
    else if (part.type === 'call' && part.call.name !== undefined) {
      toolCalls.push({ id: ids.next(part.call.id), type: 'function', function: { name: part.call.name, arguments: JSON.stringify(part.call.args ?? {}) } });
    }
  }
  const record = isRecord(candidate) ? candidate : {};
  const reason = stringField(record, 'finishReason');
  const finishReason: FinishReason | null = reason === undefined ? null : mapGeminiFinishReason(reason, toolCalls.length > 0);
  return {
    index: typeof record.index === 'number' ? record.index : position,
    message: { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
    finish_reason: finishReason,
    logprobs: null,
  };
}

export function promptBlockReason(body: Record<string, unknown>): string | undefined {
  return isRecord(body.promptFeedback) ? stringField(body.promptFeedback, 'blockReason') : undefined;
}

/** Vertex sends `createTime`; the Gemini API sends no time at all, so the answer's arrival stands in. */
export function createdSeconds(body: Record<string, unknown>): number {
  const created = Date.parse(stringField(body, 'createTime') ?? '');
  return Math.floor((Number.isNaN(created) ? Date.now() : created) / 1000);
}
