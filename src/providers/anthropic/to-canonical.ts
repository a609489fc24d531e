import { DetourError } from '../../core/errors.js';
import { isRecord, stringField } from '../shared/json.js';
import type { ChatMessage, ChatRequest, TextPart, ToolCall, ToolChoice, ToolDefinition, UserContentPart } from '../types.js';

/** Top-level fields read into canonical slots; every other field travels in `extra`. */
const handledKeys: ReadonlySet<string> = new Set([
  'model', 'max_tokens', 'messages', 'system', 'stop_sequences', 'temperature', 'top_p', 'stream', 'tools', 'tool_choice', 'metadata', 'output_config',
  ...droppableKeys(),
]);

/**
 * Fields that tune how Anthropic works, not what the answer means: other upstreams have no
 * equivalent, so translation leaves them behind (`thinking` and `output_config.effort` become a
 * reasoning effort where the target takes one).
 */
function droppableKeys(): string[] {
  return ['thinking', 'context_management', 'cache_control', 'service_tier', 'container', 'mcp_servers'];
}

/** The top-level features a translation of this body leaves behind, for the debug log (`cache_control` marks and earlier thinking blocks inside messages go too). */
export function anthropicDroppedFeatures(body: Record<string, unknown>): string[] {
  const dropped = droppableKeys().filter((key) => body[key] !== undefined && body[key] !== null);
  if (isRecord(body.output_config) && body.output_config.effort !== undefined) dropped.push('output_config.effort');
  return dropped;
}

/** Anthropic's thinking budget (or `output_config.effort`) as a reasoning effort. */
function effortOf(body: Record<string, unknown>): string | undefined {
  const effort = isRecord(body.output_config) ? body.output_config.effort : undefined;
  if (typeof effort === 'string') return effort === 'max' ? 'high' : effort;
  const thinking = body.thinking;
  if (!isRecord(thinking) || thinking.type !== 'enabled' || typeof thinking.budget_tokens !== 'number') return undefined;
  return thinking.budget_tokens >= 16_000 ? 'high' : thinking.budget_tokens >= 4_000 ? 'medium' : 'low';
}

/**
 * A validated Anthropic Messages body as a canonical (OpenAI-shaped) request, for a target of
 * another format. Top-level fields with no canonical slot (`top_k`, `thinking`, …) go to `extra`,
 * where the target's adapter must refuse or translate them. Content that no other format can
 * carry (thinking blocks, documents, server tools, images in tool results, an assistant prefill)
 * makes this throw a `failover` UNSUPPORTED_FEATURE: such a request can be served by Anthropic
 * targets only. Two things are left behind on purpose, as hints that do not change the answer's
 * meaning: `cache_control` marks, and a tool result's `is_error` flag (its content says it).
 */
export function anthropicToCanonical(body: Record<string, unknown>): ChatRequest {
  const unsupported: string[] = [];
  const request: ChatRequest = { model: String(body.model), messages: [] };
  if (typeof body.system === 'string') request.messages.push({ role: 'system', content: body.system });
  else if (Array.isArray(body.system)) request.messages.push({ role: 'system', content: textParts(body.system, 'system', unsupported) });
  if (Array.isArray(body.messages)) {
    body.messages.forEach((message, index) => request.messages.push(...toMessages(message, `messages.${index}`, unsupported)));
    const last: unknown = body.messages[body.messages.length - 1];
    if (isRecord(last) && last.role === 'assistant') unsupported.push('a final assistant message (prefill)');
  }
  if (typeof body.max_tokens === 'number') request.max_tokens = body.max_tokens;
  if (Array.isArray(body.stop_sequences)) request.stop = body.stop_sequences.filter((item): item is string => typeof item === 'string');
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  if (body.stream === true) request.stream = true;
  if (Array.isArray(body.tools)) request.tools = body.tools.flatMap((tool, index) => toTool(tool, `tools.${index}`, unsupported));
  if (isRecord(body.tool_choice)) Object.assign(request, toToolChoice(body.tool_choice));
  const effort = effortOf(body);
  if (effort !== undefined) request.reasoning_effort = effort;

  const extra: Record<string, unknown> = {};
  if (isRecord(body.metadata)) {
    const { user_id: userId, ...rest } = body.metadata;
    if (typeof userId === 'string') request.user = userId;
    if (Object.keys(rest).length > 0) extra.metadata = rest;
  }
  if (isRecord(body.output_config)) {
    const { format, effort: _effort, ...rest } = body.output_config;
    if (isRecord(format) && format.type === 'json_schema' && isRecord(format.schema)) {
      request.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: format.schema } };
    } else if (format !== undefined && format !== null) rest.format = format;
    if (Object.keys(rest).length > 0) extra.output_config = rest;
  }
  for (const [key, value] of Object.entries(body)) if (!handledKeys.has(key) && value !== undefined) extra[key] = value;
  if (Object.keys(extra).length > 0) request.extra = extra;

  if (unsupported.length > 0) {
    throw new DetourError({
      kind: 'failover',
      code: 'UNSUPPORTED_FEATURE',
      status: 400,
      message: `This request uses Anthropic features that only an Anthropic target can serve: ${unsupported.join('; ')}`,
    });
  }
  return request;
}

function toMessages(message: unknown, path: string, unsupported: string[]): ChatMessage[] {
  if (!isRecord(message)) return [];
  const content = message.content;
  if (message.role === 'assistant') return [assistantMessage(content, path, unsupported)];
  if (message.role === 'system') return [{ role: 'system', content: typeof content === 'string' ? content : textParts(Array.isArray(content) ? content : [], `${path}.content`, unsupported) }];
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) return [];
  // Tool results become `tool` messages; the user's own blocks around them stay in order.
  const result: ChatMessage[] = [];
  let pending: UserContentPart[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const only = pending[0];
    result.push({ role: 'user', content: pending.length === 1 && only?.type === 'text' ? only.text : pending });
    pending = [];
  };
  content.forEach((block, index) => {
    const blockPath = `${path}.content.${index}`;
    if (!isRecord(block)) return;
    if (block.type === 'tool_result') {
      flush();
      result.push({ role: 'tool', tool_call_id: String(block.tool_use_id), content: toolResultContent(block.content, `${blockPath}.content`, unsupported) });
    } else if (block.type === 'text') pending.push({ type: 'text', text: String(block.text) });
    else if (block.type === 'image') pending.push({ type: 'image_url', image_url: { url: imageUrl(block.source) } });
    else unsupported.push(`${String(block.type)} blocks (${blockPath})`);
  });
  flush();
  return result;
}

function assistantMessage(content: unknown, path: string, unsupported: string[]): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: TextPart[] = [];
  const toolCalls: ToolCall[] = [];
  (Array.isArray(content) ? content : []).forEach((block: unknown, index) => {
    if (!isRecord(block)) return;
    if (block.type === 'text') texts.push({ type: 'text', text: String(block.text) });
    else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      // The model's earlier reasoning, signed for Anthropic: another model neither needs nor can check it.
    } else if (block.type === 'tool_use') {
      toolCalls.push({ id: String(block.id), type: 'function', function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) } });
    } else unsupported.push(`${String(block.type)} blocks (${path}.content.${index})`);
  });
  const only = texts[0];
  const text = texts.length === 0 ? null : texts.length === 1 && only ? only.text : texts;
  const message: ChatMessage = { role: 'assistant', content: text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

function imageUrl(source: unknown): string {
  if (!isRecord(source)) return '';
  if (source.type === 'url') return String(source.url);
  return `data:${String(source.media_type)};base64,${String(source.data)}`;
}

function textParts(blocks: readonly unknown[], path: string, unsupported: string[]): TextPart[] {
  const parts: TextPart[] = [];
  blocks.forEach((block, index) => {
    if (isRecord(block) && block.type === 'text') parts.push({ type: 'text', text: String(block.text) });
    else unsupported.push(`${String(isRecord(block) ? block.type : block)} blocks (${path}.${index})`);
  });
  return parts;
}

function toolResultContent(content: unknown, path: string, unsupported: string[]): string | TextPart[] {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? textParts(content, path, unsupported) : '';
}

function toTool(tool: unknown, path: string, unsupported: string[]): ToolDefinition[] {
  if (!isRecord(tool)) return [];
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    unsupported.push(`the server tool ${String(tool.type)} (${path})`);
    return [];
  }
  const definition: ToolDefinition['function'] = { name: String(tool.name) };
  const description = stringField(tool, 'description');
  if (description !== undefined) definition.description = description;
  if (isRecord(tool.input_schema)) definition.parameters = tool.input_schema;
  if (tool.strict === true) definition.strict = true;
  return [{ type: 'function', function: definition }];
}

/** any → required, tool → a named function; `disable_parallel_tool_use` → `parallel_tool_calls: false`. */
function toToolChoice(choice: Record<string, unknown>): { tool_choice: ToolChoice; parallel_tool_calls?: boolean } {
  const toolChoice: ToolChoice =
    choice.type === 'any' ? 'required' : choice.type === 'none' ? 'none' : choice.type === 'tool' ? { type: 'function', function: { name: String(choice.name) } } : 'auto';
  return choice.disable_parallel_tool_use === true ? { tool_choice: toolChoice, parallel_tool_calls: false } : { tool_choice: toolChoice };
}
