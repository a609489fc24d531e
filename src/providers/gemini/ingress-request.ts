import { invalidRequest } from '../../core/errors.js';
import { isRecord, stringField } from '../shared/json.js';
import type { ChatMessage, ChatRequest, ToolCall, ToolChoice, ToolDefinition, UserContentPart } from '../types.js';

/**
 * A Gemini `generateContent` request read as a canonical one: the server face of the format
 * (the simulator's today). Gemini names the model and streaming in the URL; whoever routes
 * the URL puts them in the body as `model` and `stream` before this sees it.
 */

const knownKeys = new Set(['model', 'stream', 'contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig']);
const knownGenerationKeys = new Set(['maxOutputTokens', 'temperature', 'topP', 'stopSequences', 'candidateCount', 'seed', 'responseMimeType', 'responseJsonSchema', 'responseSchema']);

/** Checks what routing and translation rely on; the errors name the field as Google's do. */
export function inspectGeminiRequest(body: unknown): { route: string; stream: boolean; wantsUsage: boolean } {
  if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
  if (typeof body.model !== 'string' || body.model === '') throw invalidRequest('The model must be named in the URL.', 'model');
  if (!Array.isArray(body.contents) || body.contents.length === 0) throw invalidRequest('* GenerateContentRequest.contents: contents is not specified', 'contents');
  body.contents.forEach((content, index) => {
    if (!isRecord(content) || !Array.isArray(content.parts) || content.parts.length === 0) {
      throw invalidRequest(`* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.`, `contents[${index}].parts`);
    }
  });
  // What translation cannot read (a result that answers no call, a part with no canonical
  // form) is refused here, as a 400 before anything is answered, rather than midway.
  geminiToCanonical(body);
  // Gemini always reports usage, streaming or not.
  return { route: body.model.replace(/^models\//, ''), stream: body.stream === true, wantsUsage: true };
}

interface OpenCall {
  id: string;
  name: string;
  isAnswered: boolean;
}

export function geminiToCanonical(body: Record<string, unknown>): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(body.systemInstruction);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  const calls: OpenCall[] = [];
  (body.contents as unknown[]).forEach((content, index) => messages.push(...contentToMessages(content, index, calls)));
  const request: ChatRequest = { model: String(body.model).replace(/^models\//, ''), messages };
  if (body.stream === true) request.stream = true;
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!knownKeys.has(key) && value !== undefined) extra[key] = value;
  if (body.tools !== undefined) request.tools = toolsOf(body.tools);
  const choice = toolChoiceOf(body.toolConfig);
  if (choice !== undefined) request.tool_choice = choice;
  if (isRecord(body.generationConfig)) applyGenerationConfig(body.generationConfig, request, extra);
  if (Object.keys(extra).length > 0) request.extra = extra;
  return request;
}

function systemText(instruction: unknown): string | undefined {
  if (typeof instruction === 'string') return instruction;
  if (!isRecord(instruction) || !Array.isArray(instruction.parts)) return undefined;
  return instruction.parts.map((part) => stringField(part, 'text') ?? '').join('');
}

function contentToMessages(content: unknown, index: number, calls: OpenCall[]): ChatMessage[] {
  const record = content as Record<string, unknown>;
  const parts = (record.parts as unknown[]).filter((part) => !(isRecord(part) && part.thought === true));
  if (record.role === 'model') return [modelMessage(parts, index, calls)];
  // User turns hold the user's words and the results of the calls; each result is its own tool message.
  const messages: ChatMessage[] = [];
  let userParts: UserContentPart[] = [];
  const flush = (): void => {
    if (userParts.length > 0) messages.push({ role: 'user', content: userParts });
    userParts = [];
  };
  parts.forEach((part, partIndex) => {
    const path = `contents[${index}].parts[${partIndex}]`;
    if (isRecord(part) && isRecord(part.functionResponse)) {
      flush();
      messages.push(toolMessage(part.functionResponse, path, calls));
    } else {
      userParts.push(userPart(part, path));
    }
  });
  flush();
  return messages;
}

function modelMessage(parts: unknown[], index: number, calls: OpenCall[]): ChatMessage {
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  parts.forEach((part, partIndex) => {
    const call = isRecord(part) ? part.functionCall : undefined;
    if (isRecord(part) && typeof part.text === 'string') text = (text ?? '') + part.text;
    else if (isRecord(call) && typeof call.name === 'string') {
      const id = stringField(call, 'id') ?? `call_${calls.length}`;
      calls.push({ id, name: call.name, isAnswered: false });
      toolCalls.push({ id, type: 'function', function: { name: call.name, arguments: JSON.stringify(isRecord(call.args) ? call.args : {}) } });
    } else {
      throw invalidRequest(`contents[${index}].parts[${partIndex}]: this kind of model part cannot be translated.`, `contents[${index}].parts[${partIndex}]`);
    }
  });
  return { role: 'assistant', content: text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
}

/** A result is paired with its call by id when it has one, else with the earliest unanswered call of that name, as Gemini pairs them. */
function toolMessage(response: Record<string, unknown>, path: string, calls: OpenCall[]): ChatMessage {
  const id = stringField(response, 'id');
  const name = stringField(response, 'name');
  const call = calls.find((candidate) => !candidate.isAnswered && (id !== undefined ? candidate.id === id : candidate.name === name));
  if (!call) throw invalidRequest(`${path}.functionResponse: no earlier functionCall named "${name ?? ''}" is waiting for this response.`, `${path}.functionResponse`);
  call.isAnswered = true;
  const result = isRecord(response.response) ? response.response : {};
  const output = 'output' in result ? result.output : result;
  return { role: 'tool', tool_call_id: call.id, content: typeof output === 'string' ? output : JSON.stringify(output) };
}

function userPart(part: unknown, path: string): UserContentPart {
  if (isRecord(part) && typeof part.text === 'string') return { type: 'text', text: part.text };
  const inline = isRecord(part) ? part.inlineData : undefined;
  if (isRecord(inline) && typeof inline.data === 'string' && stringField(inline, 'mimeType')?.startsWith('image/')) {
    return { type: 'image_url', image_url: { url: `data:${String(inline.mimeType)};base64,${inline.data}` } };
  }
  const file = isRecord(part) ? part.fileData : undefined;
  if (isRecord(file) && typeof file.fileUri === 'string' && (stringField(file, 'mimeType') ?? 'image/').startsWith('image/')) {
    return { type: 'image_url', image_url: { url: file.fileUri } };
  }
  throw invalidRequest(`${path}: only text and image parts can be translated.`, path);
}

function toolsOf(tools: unknown): ToolDefinition[] {
  if (!Array.isArray(tools)) throw invalidRequest('tools must be an array.', 'tools');
  return tools.flatMap((tool, index) => {
    if (!isRecord(tool) || !Array.isArray(tool.functionDeclarations) || Object.keys(tool).length !== 1) {
      throw invalidRequest(`tools[${index}]: only functionDeclarations can be translated.`, `tools[${index}]`);
    }
    return tool.functionDeclarations.map((declaration): ToolDefinition => {
      const name = stringField(declaration, 'name') ?? '';
      const record = isRecord(declaration) ? declaration : {};
      const schema = isRecord(record.parametersJsonSchema) ? record.parametersJsonSchema : isRecord(record.parameters) ? openApiToJsonSchema(record.parameters) : undefined;
      const description = stringField(record, 'description');
      return { type: 'function', function: { name, ...(description !== undefined ? { description } : {}), ...(schema ? { parameters: schema as Record<string, unknown> } : {}) } };
    });
  });
}

/** Gemini's OpenAPI subset spells types in capitals (`OBJECT`, `STRING`); JSON Schema in lower case. */
function openApiToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApiToJsonSchema);
  if (!isRecord(schema)) return schema;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) result[key] = key === 'type' && typeof value === 'string' ? value.toLowerCase() : openApiToJsonSchema(value);
  return result;
}

function toolChoiceOf(toolConfig: unknown): ToolChoice | undefined {
  const config = isRecord(toolConfig) && isRecord(toolConfig.functionCallingConfig) ? toolConfig.functionCallingConfig : undefined;
  const mode = stringField(config, 'mode');
  if (mode === 'NONE') return 'none';
  if (mode === 'ANY') {
    const names = Array.isArray(config?.allowedFunctionNames) ? config.allowedFunctionNames : [];
    const only = names.length === 1 && typeof names[0] === 'string' ? names[0] : undefined;
    return only !== undefined ? { type: 'function', function: { name: only } } : 'required';
  }
  return mode === 'AUTO' || mode === 'VALIDATED' ? 'auto' : undefined;
}

function applyGenerationConfig(config: Record<string, unknown>, request: ChatRequest, extra: Record<string, unknown>): void {
  if (typeof config.maxOutputTokens === 'number') request.max_completion_tokens = config.maxOutputTokens;
  if (typeof config.temperature === 'number') request.temperature = config.temperature;
  if (typeof config.topP === 'number') request.top_p = config.topP;
  if (Array.isArray(config.stopSequences)) request.stop = config.stopSequences.filter((item): item is string => typeof item === 'string');
  if (typeof config.candidateCount === 'number') request.n = config.candidateCount;
  if (typeof config.seed === 'number') request.seed = config.seed;
  if (config.responseMimeType === 'application/json') {
    const schema = isRecord(config.responseJsonSchema) ? config.responseJsonSchema : isRecord(config.responseSchema) ? openApiToJsonSchema(config.responseSchema) : undefined;
    request.response_format = schema ? { type: 'json_schema', json_schema: { name: 'response', schema: schema as Record<string, unknown> } } : { type: 'json_object' };
  } else if (config.responseMimeType !== undefined && config.responseMimeType !== 'text/plain') {
    extra['generationConfig.responseMimeType'] = config.responseMimeType;
  }
  for (const [key, value] of Object.entries(config)) if (!knownGenerationKeys.has(key) && value !== undefined) extra[`generationConfig.${key}`] = value;
}
