import type { Target } from '../../core/settings.js';
import type { BuildOptions, ChatRequest, UpstreamRequest } from '../types.js';
import { toGeminiConversation } from './request-messages.js';
import type { GeminiFunctionCallingMode, GeminiFunctionDeclaration, GeminiGenerationConfig, GeminiRequestBody } from './schema.js';
import { unsupportedFeature } from './unsupported.js';
import { geminiGenerateUrl, geminiHeaders } from './url.js';

/**
 * The canonical request as a `generateContent` body. Every field is either expressed or
 * refused with an UNSUPPORTED_FEATURE naming it, never dropped; the few fields that are left
 * out on purpose say why where they are read.
 */
export function canonicalToGeminiBody(request: ChatRequest, target: Target): GeminiRequestBody {
  const body: GeminiRequestBody = toGeminiConversation(request.messages, target);
  if (request.tools && request.tools.length > 0) {
    body.tools = [{ functionDeclarations: request.tools.map((tool, index) => functionDeclaration(tool, index, target)) }];
    // `tool_choice` without tools has nothing to choose from: it is sent only alongside tools.
    if (request.tool_choice !== undefined) body.toolConfig = { functionCallingConfig: functionCallingConfig(request.tool_choice, target) };
  }
  // Gemini may always answer with several calls at once; it has no switch to forbid it.
  if (request.parallel_tool_calls === false) throw unsupportedFeature(target, 'parallel_tool_calls: false');
  const generationConfig = generationConfigFor(request, target);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  // `user` (an end-user id for OpenAI's abuse monitoring) has no Gemini field and does not change the answer: not sent.
  return body;
}

function functionDeclaration(tool: NonNullable<ChatRequest['tools']>[number], index: number, target: Target): GeminiFunctionDeclaration {
  if (tool.type !== 'function') throw unsupportedFeature(target, `a tool of type "${String(tool.type)}" (tools[${index}])`);
  const { name, description, parameters } = tool.function;
  // `strict` (OpenAI's promise that arguments match the schema) has no Gemini switch; it is
  // not sent, and the arguments are Gemini's best effort at the declared schema. Refusing it
  // would shut Gemini out for the many clients that set it on every tool by default.
  return {
    name,
    ...(description !== undefined ? { description } : {}),
    // Plain JSON Schema, as OpenAI clients write it; `parameters` would want Gemini's OpenAPI subset.
    ...(parameters !== undefined ? { parametersJsonSchema: parameters } : {}),
  };
}

function functionCallingConfig(choice: NonNullable<ChatRequest['tool_choice']>, target: Target): { mode: GeminiFunctionCallingMode; allowedFunctionNames?: string[] } {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  const name = typeof choice === 'object' && choice.type === 'function' ? choice.function?.name : undefined;
  if (typeof name !== 'string') throw unsupportedFeature(target, `tool_choice ${JSON.stringify(choice)}`);
  return { mode: 'ANY', allowedFunctionNames: [name] };
}

function generationConfigFor(request: ChatRequest, target: Target): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.top_p !== undefined) config.topP = request.top_p;
  if (request.stop !== undefined) config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.n !== undefined) config.candidateCount = request.n;
  if (request.seed !== undefined) config.seed = request.seed;
  const format = request.response_format;
  if (format !== undefined && format.type !== 'text') {
    if (format.type !== 'json_object' && format.type !== 'json_schema') throw unsupportedFeature(target, `response_format type "${String((format as { type: unknown }).type)}"`);
    config.responseMimeType = 'application/json';
    // The schema's `name`, `description` and `strict` have no slot: Gemini always decodes to the schema it is given.
    if (format.type === 'json_schema' && format.json_schema.schema !== undefined) config.responseJsonSchema = format.json_schema.schema;
  }
  applyExtra(request.extra ?? {}, config, target);
  return config;
}

/**
 * Fields of the client's request that have no canonical slot. The two penalties exist in
 * Gemini's generation config; a few others are no-ops at their default value; the rest are refused.
 */
function applyExtra(extra: Record<string, unknown>, config: GeminiGenerationConfig, target: Target): void {
  const refused: string[] = [];
  for (const [key, value] of Object.entries(extra)) {
    if (key === 'presence_penalty' && typeof value === 'number') config.presencePenalty = value;
    else if (key === 'frequency_penalty' && typeof value === 'number') config.frequencyPenalty = value;
    else if ((key === 'logprobs' || key === 'store') && value === false) continue;
    else refused.push(`"${key}"`);
  }
  if (refused.length > 0) throw unsupportedFeature(target, `the request field${refused.length > 1 ? 's' : ''} ${refused.join(', ')}`);
}

export function buildGeminiRequest(body: Record<string, unknown> | GeminiRequestBody, target: Target, options: BuildOptions): UpstreamRequest {
  return {
    url: geminiGenerateUrl(target, options.stream),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...geminiHeaders(target) },
    body: JSON.stringify(body),
  };
}

/**
 * The fast path for a body already in Gemini's shape. Gemini names the model and streaming in
 * the URL, not the body: the `model` and `stream` the ingress put in the body are taken out.
 */
export function buildGeminiPassThroughRequest(body: Record<string, unknown>, target: Target, options: BuildOptions): UpstreamRequest {
  const { model: _model, stream: _stream, ...rest } = body;
  return buildGeminiRequest(rest, target, options);
}
