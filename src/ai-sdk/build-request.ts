import type { LanguageModelV3CallOptions, SharedV3Warning } from '@ai-sdk/provider';
import type { ChatCompletionRequest } from '../library/wire-types.js';
import type { ResponseFormat } from '../providers/types.js';
import { convertPrompt } from './convert-prompt.js';
import { prepareTools } from './prepare-tools.js';

/**
 * An AI SDK call as an OpenAI Chat Completions request to a Detour route. Settings OpenAI's
 * API has no field for are dropped with a warning; penalties travel as OpenAI fields, which a
 * translating adapter refuses rather than drops (the target is then skipped, not misled).
 */
export function buildRequest(route: string, options: LanguageModelV3CallOptions): { request: ChatCompletionRequest; warnings: SharedV3Warning[] } {
  const { messages, warnings } = convertPrompt(options.prompt);
  const tools = prepareTools(options);
  warnings.push(...tools.warnings);
  if (options.topK !== undefined) warnings.push({ type: 'unsupported', feature: 'topK' });
  const request: ChatCompletionRequest = { model: route, messages };
  if (options.maxOutputTokens !== undefined) request.max_tokens = options.maxOutputTokens;
  if (options.temperature !== undefined) request.temperature = options.temperature;
  if (options.topP !== undefined) request.top_p = options.topP;
  if (options.stopSequences !== undefined && options.stopSequences.length > 0) request.stop = options.stopSequences;
  if (options.seed !== undefined) request.seed = options.seed;
  if (options.presencePenalty !== undefined) request.presence_penalty = options.presencePenalty;
  if (options.frequencyPenalty !== undefined) request.frequency_penalty = options.frequencyPenalty;
  const responseFormat = toResponseFormat(options.responseFormat);
  if (responseFormat) request.response_format = responseFormat;
  if (tools.tools) request.tools = tools.tools;
  if (tools.toolChoice) request.tool_choice = tools.toolChoice;
  return { request, warnings };
}

function toResponseFormat(format: LanguageModelV3CallOptions['responseFormat']): ResponseFormat | undefined {
  if (!format || format.type === 'text') return undefined;
  if (!format.schema) return { type: 'json_object' };
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name ?? 'response',
      schema: format.schema as Record<string, unknown>,
      ...(format.description !== undefined ? { description: format.description } : {}),
    },
  };
}
