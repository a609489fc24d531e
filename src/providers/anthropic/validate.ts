import { invalidRequest } from '../../core/errors.js';
import { isRecord } from '../shared/json.js';

/**
 * Validates an Anthropic Messages request body by hand: the required fields, and the shape of
 * everything a translation reads, without copying the body. Errors name the parameter with
 * Anthropic's own dotted paths (`messages.0.content.1.source`).
 */
export function validateAnthropicRequest(body: unknown): asserts body is Record<string, unknown> {
  if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
  if (typeof body.model !== 'string' || body.model === '') throw invalidRequest('model: Field required (a non-empty string).', 'model');
  if (body.max_tokens === undefined || body.max_tokens === null) {
    throw invalidRequest('max_tokens: Field required. Anthropic Messages requests must say how many tokens the answer may use at most.', 'max_tokens');
  }
  if (!isPositiveInteger(body.max_tokens)) throw invalidRequest('max_tokens: must be an integer of at least 1.', 'max_tokens');
  if (body.messages === undefined) throw invalidRequest('messages: Field required.', 'messages');
  if (!Array.isArray(body.messages)) throw invalidRequest('messages: must be an array of messages.', 'messages');
  if (body.messages.length === 0) throw invalidRequest('messages: must contain at least one message.', 'messages');
  body.messages.forEach(validateMessage);
  if (body.system !== undefined && typeof body.system !== 'string') validateBlocks(body.system, 'system', new Set(['text']));
  optional(body, 'stream', 'boolean');
  optional(body, 'temperature', 'number');
  optional(body, 'top_p', 'number');
  if (body.top_k !== undefined && !isPositiveInteger(body.top_k)) throw invalidRequest('top_k: must be an integer of at least 1.', 'top_k');
  if (body.stop_sequences !== undefined && !(Array.isArray(body.stop_sequences) && body.stop_sequences.every((item) => typeof item === 'string'))) {
    throw invalidRequest('stop_sequences: must be an array of strings.', 'stop_sequences');
  }
  if (body.tools !== undefined) validateTools(body.tools);
  if (body.tool_choice !== undefined) validateToolChoice(body.tool_choice);
  for (const key of ['metadata', 'output_config', 'thinking', 'context_management'] as const) {
    if (body[key] !== undefined && !isRecord(body[key])) throw invalidRequest(`${key}: must be an object.`, key);
  }
}

function validateMessage(message: unknown, index: number): void {
  const path = `messages.${index}`;
  if (!isRecord(message)) throw invalidRequest(`${path}: must be an object with a role and content.`, path);
  // Claude Code sends `system` messages mid-conversation; Anthropic takes them, and translation keeps them in place.
  if (message.role !== 'user' && message.role !== 'assistant' && message.role !== 'system') {
    throw invalidRequest(`${path}.role: must be "user", "assistant" or "system".`, `${path}.role`);
  }
  if (message.content === undefined) throw invalidRequest(`${path}.content: Field required.`, `${path}.content`);
  if (typeof message.content !== 'string') validateBlocks(message.content, `${path}.content`);
}

function validateBlocks(blocks: unknown, path: string, allowed?: ReadonlySet<string>): void {
  if (!Array.isArray(blocks)) throw invalidRequest(`${path}: must be a string or an array of content blocks.`, path);
  blocks.forEach((block, index) => {
    const blockPath = `${path}.${index}`;
    if (!isRecord(block) || typeof block.type !== 'string') throw invalidRequest(`${blockPath}: must be an object with a "type".`, blockPath);
    if (allowed && !allowed.has(block.type)) throw invalidRequest(`${blockPath}.type: must be one of ${[...allowed].join(', ')}.`, `${blockPath}.type`);
    validateBlock(block, blockPath);
  });
}

/** The fields of the blocks a translation reads; other block types only need their `type`. */
function validateBlock(block: Record<string, unknown>, path: string): void {
  const requireString = (key: string): void => {
    if (typeof block[key] !== 'string') throw invalidRequest(`${path}.${key}: Field required (a string).`, `${path}.${key}`);
  };
  switch (block.type) {
    case 'text':
      requireString('text');
      return;
    case 'image': {
      const source = block.source;
      const isValid =
        isRecord(source) &&
        ((source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') || (source.type === 'url' && typeof source.url === 'string'));
      if (!isValid) throw invalidRequest(`${path}.source: must be {type: "base64", media_type, data} or {type: "url", url}.`, `${path}.source`);
      return;
    }
    case 'tool_use':
      requireString('id');
      requireString('name');
      if (!isRecord(block.input)) throw invalidRequest(`${path}.input: must be an object.`, `${path}.input`);
      return;
    case 'tool_result':
      requireString('tool_use_id');
      if (block.content !== undefined && typeof block.content !== 'string') validateBlocks(block.content, `${path}.content`);
      return;
    default:
      return;
  }
}

function validateTools(tools: unknown): void {
  if (!Array.isArray(tools)) throw invalidRequest('tools: must be an array.', 'tools');
  tools.forEach((tool, index) => {
    const path = `tools.${index}`;
    if (!isRecord(tool) || typeof tool.name !== 'string') throw invalidRequest(`${path}.name: Field required.`, `${path}.name`);
    // Server tools (`web_search_…`, `bash_…`) have a `type` and no schema; custom tools need one.
    const isCustom = tool.type === undefined || tool.type === null || tool.type === 'custom';
    if (isCustom && !isRecord(tool.input_schema)) throw invalidRequest(`${path}.input_schema: Field required (a JSON schema object).`, `${path}.input_schema`);
  });
}

const toolChoiceTypes = new Set(['auto', 'any', 'tool', 'none']);

function validateToolChoice(choice: unknown): void {
  if (!isRecord(choice) || typeof choice.type !== 'string' || !toolChoiceTypes.has(choice.type)) {
    throw invalidRequest('tool_choice: must be {type: "auto" | "any" | "none"} or {type: "tool", name}.', 'tool_choice');
  }
  if (choice.type === 'tool' && typeof choice.name !== 'string') throw invalidRequest('tool_choice.name: Field required for type "tool".', 'tool_choice.name');
}

function optional(body: Record<string, unknown>, key: string, type: 'boolean' | 'number'): void {
  if (body[key] !== undefined && typeof body[key] !== type) throw invalidRequest(`${key}: must be a ${type}.`, key);
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}
