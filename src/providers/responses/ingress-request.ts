import { invalidRequest } from '../../core/errors.js';
import { isRecord } from '../shared/json.js';
import type { ChatMessage, ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../types.js';
import { inputItems, itemsToMessages } from './input.js';

/**
 * A Responses API request (`POST /v1/responses`) checked and read as a canonical chat request,
 * for upstreams that do not speak the Responses API themselves.
 */

/** Checks what routing and translation rely on; errors name the parameter, as OpenAI's do. */
export function validateResponsesRequest(body: unknown): asserts body is Record<string, unknown> {
  if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
  if (typeof body.model !== 'string' || body.model === '') throw invalidRequest("'model' is required and must be a non-empty string.", 'model');
  const input = body.input;
  if (typeof input !== 'string' && !Array.isArray(input)) throw invalidRequest("'input' is required: a string or an array of input items.", 'input');
  if (Array.isArray(input) && input.some((item) => !isRecord(item))) throw invalidRequest("Every item of 'input' must be an object.", 'input');
  for (const key of ['stream', 'store', 'parallel_tool_calls', 'background'] as const) {
    if (body[key] !== undefined && body[key] !== null && typeof body[key] !== 'boolean') throw invalidRequest(`'${key}' must be a boolean.`, key);
  }
  for (const key of ['temperature', 'top_p'] as const) {
    if (body[key] !== undefined && body[key] !== null && typeof body[key] !== 'number') throw invalidRequest(`'${key}' must be a number.`, key);
  }
  const max = body.max_output_tokens;
  if (max !== undefined && max !== null && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) throw invalidRequest("'max_output_tokens' must be a positive integer.", 'max_output_tokens');
  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== 'string') throw invalidRequest("'instructions' must be a string.", 'instructions');
  if (body.previous_response_id !== undefined && body.previous_response_id !== null && typeof body.previous_response_id !== 'string') {
    throw invalidRequest("'previous_response_id' must be a string.", 'previous_response_id');
  }
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) throw invalidRequest("'tools' must be an array.", 'tools');
  if (body.text !== undefined && body.text !== null && !isRecord(body.text)) throw invalidRequest("'text' must be an object.", 'text');
  if (body.metadata !== undefined && body.metadata !== null && !isRecord(body.metadata)) throw invalidRequest("'metadata' must be an object.", 'metadata');
  if (body.background === true) throw invalidRequest('Background responses are not supported by this gateway.', 'background');
  if (body.conversation !== undefined && body.conversation !== null) throw invalidRequest("'conversation' is not supported by this gateway; use previous_response_id.", 'conversation');
  // What translation cannot read is refused now, as a 400, rather than after an upstream was chosen.
  itemsToMessages(inputItems(input));
}

export function responsesToCanonical(body: Record<string, unknown>): ChatRequest {
  const messages: ChatMessage[] = [];
  if (typeof body.instructions === 'string' && body.instructions !== '') messages.push({ role: 'system', content: body.instructions });
  messages.push(...itemsToMessages(inputItems(body.input)));
  const request: ChatRequest = { model: String(body.model), messages };
  if (body.stream === true) request.stream = true;
  const tools = toolsOf(body.tools);
  if (tools.length > 0) request.tools = tools;
  const choice = toolChoiceOf(body.tool_choice);
  if (choice !== undefined && tools.length > 0) request.tool_choice = choice;
  if (typeof body.parallel_tool_calls === 'boolean' && tools.length > 0) request.parallel_tool_calls = body.parallel_tool_calls;
  if (typeof body.max_output_tokens === 'number') request.max_tokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  if (typeof body.user === 'string') request.user = body.user;
  const format = formatOf(body.text);
  if (format) request.response_format = format;
  const effort = isRecord(body.reasoning) ? body.reasoning.effort : undefined;
  if (typeof effort === 'string' && effort !== 'none') request.reasoning_effort = effort;
  return request;
}

/**
 * Function tools (flat in the Responses API) become canonical ones; a custom (free-form) tool
 * becomes a function taking its text as `input`. OpenAI's hosted tools (web search, file search,
 * namespaces of hosted connectors) have no equivalent on other upstreams and are left out there:
 * the model answers without them, as it would with the tool disabled.
 */
export function toolsOf(tools: unknown): ToolDefinition[] {
  if (!Array.isArray(tools)) return [];
  const result: ToolDefinition[] = [];
  for (const tool of tools) {
    if (!isRecord(tool) || typeof tool.name !== 'string') continue;
    if (tool.type === 'function') {
      const fn: ToolDefinition['function'] = { name: tool.name };
      if (typeof tool.description === 'string') fn.description = tool.description;
      if (isRecord(tool.parameters)) fn.parameters = tool.parameters;
      if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
      result.push({ type: 'function', function: fn });
    } else if (tool.type === 'custom') {
      const fn: ToolDefinition['function'] = { name: tool.name, parameters: { type: 'object', properties: { input: { type: 'string' } }, required: ['input'] } };
      if (typeof tool.description === 'string') fn.description = tool.description;
      result.push({ type: 'function', function: fn });
    }
  }
  return result;
}

/** The names of the request's custom tools, whose calls are answered as `custom_tool_call` items. */
export function customToolNames(tools: unknown): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(tools)) return names;
  for (const tool of tools) if (isRecord(tool) && tool.type === 'custom' && typeof tool.name === 'string') names.add(tool.name);
  return names;
}

function toolChoiceOf(choice: unknown): ToolChoice | undefined {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isRecord(choice) && (choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  return undefined;
}

function formatOf(text: unknown): ResponseFormat | undefined {
  if (!isRecord(text) || !isRecord(text.format)) return undefined;
  const format = text.format;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type !== 'json_schema') return undefined;
  const schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } = { name: typeof format.name === 'string' ? format.name : 'response' };
  if (isRecord(format.schema)) schema.schema = format.schema;
  if (typeof format.strict === 'boolean') schema.strict = format.strict;
  if (typeof format.description === 'string') schema.description = format.description;
  return { type: 'json_schema', json_schema: schema };
}
