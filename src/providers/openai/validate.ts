import { invalidRequest } from '../../core/errors.js';
import { isRecord } from '../shared/json.js';

/**
 * Validates an OpenAI Chat Completions request body by hand: only the fields Detour relies on
 * or that a translation reads are checked, without copying the body. Errors name the
 * parameter, as OpenAI's own do.
 */
export function validateOpenAiRequest(body: unknown): asserts body is Record<string, unknown> {
  if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
  if (typeof body.model !== 'string' || body.model === '') throw invalidRequest("'model' is required and must be a non-empty string.", 'model');
  const messages = body.messages;
  if (messages === undefined) throw invalidRequest("'messages' is required.", 'messages');
  if (!Array.isArray(messages)) throw invalidRequest("'messages' must be an array.", 'messages');
  if (messages.length === 0) throw invalidRequest("'messages' must contain at least one message.", 'messages');
  messages.forEach(validateMessage);
  optionalType(body, 'stream', 'boolean');
  optionalType(body, 'temperature', 'number');
  optionalType(body, 'top_p', 'number');
  optionalInteger(body, 'max_tokens');
  optionalInteger(body, 'max_completion_tokens');
  optionalInteger(body, 'n');
  if (body.stop !== undefined && body.stop !== null && typeof body.stop !== 'string' && !isStringArray(body.stop)) {
    throw invalidRequest("'stop' must be a string or an array of strings.", 'stop');
  }
  if (body.stream_options !== undefined && body.stream_options !== null && !isRecord(body.stream_options)) {
    throw invalidRequest("'stream_options' must be an object.", 'stream_options');
  }
  if (body.tools !== undefined) validateTools(body.tools);
  if (body.response_format !== undefined && !isRecord(body.response_format)) {
    throw invalidRequest("'response_format' must be an object.", 'response_format');
  }
}

const roles = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function validateMessage(message: unknown, index: number): void {
  const path = `messages[${index}]`;
  if (!isRecord(message)) throw invalidRequest(`'${path}' must be an object.`, path);
  if (typeof message.role !== 'string' || !roles.has(message.role)) {
    throw invalidRequest(`'${path}.role' must be one of system, developer, user, assistant, tool.`, `${path}.role`);
  }
  const content = message.content;
  const contentMayBeEmpty = message.role === 'assistant';
  if (content === undefined || content === null) {
    if (!contentMayBeEmpty) throw invalidRequest(`'${path}.content' is required.`, `${path}.content`);
  } else if (typeof content !== 'string') {
    if (!Array.isArray(content)) throw invalidRequest(`'${path}.content' must be a string or an array of content parts.`, `${path}.content`);
    content.forEach((part, partIndex) => {
      if (!isRecord(part) || typeof part.type !== 'string') {
        throw invalidRequest(`'${path}.content[${partIndex}]' must be an object with a 'type'.`, `${path}.content[${partIndex}]`);
      }
    });
  }
  if (message.role === 'tool' && typeof message.tool_call_id !== 'string') {
    throw invalidRequest(`'${path}.tool_call_id' is required for tool messages.`, `${path}.tool_call_id`);
  }
  if (message.tool_calls !== undefined && !Array.isArray(message.tool_calls)) {
    throw invalidRequest(`'${path}.tool_calls' must be an array.`, `${path}.tool_calls`);
  }
}

function validateTools(tools: unknown): void {
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array.", 'tools');
  tools.forEach((tool, index) => {
    const path = `tools[${index}]`;
    if (!isRecord(tool) || (tool.type === 'function' && (!isRecord(tool.function) || typeof tool.function.name !== 'string'))) {
      throw invalidRequest(`'${path}' must be {type: "function", function: {name, parameters}}.`, path);
    }
  });
}

function optionalType(body: Record<string, unknown>, key: string, type: 'boolean' | 'number'): void {
  const value = body[key];
  if (value !== undefined && value !== null && typeof value !== type) throw invalidRequest(`'${key}' must be a ${type}.`, key);
}

function optionalInteger(body: Record<string, unknown>, key: string): void {
  const value = body[key];
  if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
    throw invalidRequest(`'${key}' must be a non-negative integer.`, key);
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
