import { invalidRequest } from '../../core/errors.js';
import { isRecord } from '../shared/json.js';
import type { ChatMessage, ToolCall, UserContentPart } from '../types.js';

/**
 * A Responses API `input` (a string or a list of items) read as canonical chat messages.
 * Items that only OpenAI can make sense of (`reasoning`, whose content is encrypted for it) are
 * left out; items that carry meaning no chat upstream can receive are refused, naming them.
 */

/** The `input` as a list of items: a string is one user message. */
export function inputItems(input: unknown): Record<string, unknown>[] {
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  if (!Array.isArray(input)) return [];
  return input.filter(isRecord);
}

export function itemsToMessages(items: readonly Record<string, unknown>[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  items.forEach((item, index) => {
    const type = typeof item.type === 'string' ? item.type : 'message';
    const path = `input[${index}]`;
    if (type === 'message') messages.push(messageOf(item, path));
    else if (type === 'function_call' || type === 'custom_tool_call') appendCall(messages, callOf(item, type, path));
    else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      messages.push({ role: 'tool', tool_call_id: requiredString(item, 'call_id', path), content: outputText(item.output) });
    } else if (type === 'reasoning') {
      // Reasoning items are the model's own scratchpad, encrypted for OpenAI: no other model can read them.
    } else {
      throw invalidRequest(`Input items of type '${type}' cannot be served by this gateway.`, path);
    }
  });
  return messages;
}

const roles = new Set(['user', 'assistant', 'system', 'developer']);

function messageOf(item: Record<string, unknown>, path: string): ChatMessage {
  const role = item.role;
  if (typeof role !== 'string' || !roles.has(role)) throw invalidRequest(`'${path}.role' must be one of user, assistant, system, developer.`, `${path}.role`);
  const content = item.content;
  if (typeof content === 'string') return { role: role as 'user', content };
  if (!Array.isArray(content)) throw invalidRequest(`'${path}.content' must be a string or an array of content parts.`, `${path}.content`);
  if (role === 'assistant') return { role: 'assistant', content: textOf(content, `${path}.content`) };
  if (role === 'user') return { role: 'user', content: userParts(content, `${path}.content`) };
  return { role: role as 'system', content: textOf(content, `${path}.content`) };
}

function userParts(parts: unknown[], path: string): UserContentPart[] {
  return parts.map((part, index) => {
    const where = `${path}[${index}]`;
    if (!isRecord(part)) throw invalidRequest(`'${where}' must be an object.`, where);
    if (part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') return { type: 'text', text: requiredString(part, 'text', where) };
    if (part.type === 'input_image') {
      if (typeof part.image_url !== 'string') throw invalidRequest(`'${where}' must give its image as 'image_url' (a URL or a data URL); file ids cannot be served.`, where);
      const detail = part.detail === 'low' || part.detail === 'high' || part.detail === 'auto' ? part.detail : undefined;
      return { type: 'image_url', image_url: detail ? { url: part.image_url, detail } : { url: part.image_url } };
    }
    throw invalidRequest(`Content parts of type '${String(part.type)}' cannot be served by this gateway.`, where);
  });
}

function textOf(parts: unknown[], path: string): string {
  return parts
    .map((part, index) => {
      const where = `${path}[${index}]`;
      if (!isRecord(part)) throw invalidRequest(`'${where}' must be an object.`, where);
      if (typeof part.text === 'string') return part.text;
      if (typeof part.refusal === 'string') return part.refusal;
      throw invalidRequest(`Content parts of type '${String(part.type)}' cannot be served in this message.`, where);
    })
    .join('');
}

/** A tool's output: a string, or content parts whose text is joined. */
function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
  return output === undefined || output === null ? '' : JSON.stringify(output);
}

function callOf(item: Record<string, unknown>, type: string, path: string): ToolCall {
  const name = requiredString(item, 'name', path);
  const callId = requiredString(item, 'call_id', path);
  // A custom (free-form) tool's input travels to chat upstreams as a function's single `input` argument.
  const args = type === 'custom_tool_call' ? JSON.stringify({ input: typeof item.input === 'string' ? item.input : '' }) : typeof item.arguments === 'string' ? item.arguments : '{}';
  return { id: callId, type: 'function', function: { name, arguments: args } };
}

/** Calls that follow an assistant message (or each other) belong to that one assistant turn. */
function appendCall(messages: ChatMessage[], call: ToolCall): void {
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant') {
    last.tool_calls = [...(last.tool_calls ?? []), call];
    return;
  }
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function requiredString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw invalidRequest(`'${path}.${key}' must be a string.`, `${path}.${key}`);
  return value;
}
