import { isRecord, tryParseJson } from '../shared/json.js';
import type { ChatMessage, TextPart, ToolCall } from '../types.js';
import {
  anthropicImageTypes,
  type AnthropicContentBlock,
  type AnthropicImageBlock,
  type AnthropicMessageParam,
  type AnthropicTextBlock,
  type AnthropicToolResultBlock,
  type AnthropicToolUseBlock,
} from './wire.js';

export interface AnthropicConversation {
  system?: string | AnthropicTextBlock[];
  messages: AnthropicMessageParam[];
}

/**
 * Canonical (OpenAI) messages as Anthropic's `system` + alternating turns:
 * - system and developer messages, wherever they stand, join the top-level `system`;
 * - assistant `tool_calls` become `tool_use` blocks (arguments parsed from their JSON string);
 * - `tool` messages become `tool_result` blocks in a user turn;
 * - consecutive turns of one role are merged, as Anthropic would do anyway, so tool results and
 *   the user's next words share one turn.
 * What cannot be expressed is appended to `unsupported` (the caller refuses the request); an
 * image's `detail` is a cost hint with no Anthropic equivalent and is the one thing left out.
 */
export function toAnthropicConversation(messages: readonly ChatMessage[], unsupported: string[]): AnthropicConversation {
  const system: AnthropicTextBlock[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; blocks: AnthropicContentBlock[] }> = [];
  const push = (role: 'user' | 'assistant', blocks: AnthropicContentBlock[]): void => {
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };

  messages.forEach((message, index) => {
    const path = `messages[${index}]`;
    if ('name' in message && message.name !== undefined) unsupported.push(`${path}.name (participant names)`);
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content, `${path}.content`, unsupported));
        return;
      case 'user':
        push('user', userBlocks(message.content, path, unsupported));
        return;
      case 'assistant':
        push('assistant', assistantBlocks(message, path, unsupported));
        return;
      case 'tool':
        push('user', [toolResult(message.tool_call_id, message.content, path, unsupported)]);
        return;
      default:
        unsupported.push(`${path} with role "${(message as { role: string }).role}"`);
    }
  });

  const conversation: AnthropicConversation = { messages: turns.map((turn) => ({ role: turn.role, content: compact(turn.blocks) })) };
  if (system.length === 1) conversation.system = (system[0] as AnthropicTextBlock).text;
  else if (system.length > 1) conversation.system = system;
  return conversation;
}

/** A turn that is one text block is sent as a plain string, as people write it. */
function compact(blocks: AnthropicContentBlock[]): string | AnthropicContentBlock[] {
  const only = blocks[0];
  return blocks.length === 1 && only?.type === 'text' ? only.text : blocks;
}

function textBlocks(content: string | readonly TextPart[], path: string, unsupported: string[]): AnthropicTextBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const blocks: AnthropicTextBlock[] = [];
  content.forEach((part, index) => {
    if (part.type === 'text') blocks.push({ type: 'text', text: part.text });
    else unsupported.push(`${path}[${index}] of type "${(part as { type: string }).type}"`);
  });
  return blocks;
}

function userBlocks(content: Extract<ChatMessage, { role: 'user' }>['content'], path: string, unsupported: string[]): AnthropicContentBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const blocks: AnthropicContentBlock[] = [];
  content.forEach((part, index) => {
    const partPath = `${path}.content[${index}]`;
    if (part.type === 'text') blocks.push({ type: 'text', text: part.text });
    else if (part.type === 'image_url') {
      const image = imageBlock(part.image_url.url);
      if (typeof image === 'string') unsupported.push(`${partPath}: ${image}`);
      else blocks.push(image);
    } else unsupported.push(`${partPath} of type "${(part as { type: string }).type}"`);
  });
  return blocks;
}

/** An image block from an https URL or a `data:` URL; a string says why it cannot be one. */
export function imageBlock(url: string): AnthropicImageBlock | string {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) {
    const mediaType = (data[1] ?? '').toLowerCase();
    if (!anthropicImageTypes.has(mediaType)) return `an image of type ${mediaType} (Anthropic takes jpeg, png, gif, webp)`;
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: data[2] ?? '' } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  return 'an image URL that is neither http(s) nor a base64 data URL';
}

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>, path: string, unsupported: string[]): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  const content = message.content;
  // Anthropic rejects empty text blocks; an empty assistant text (next to tool calls) says nothing.
  const addText = (text: string): void => {
    if (text !== '') blocks.push({ type: 'text', text });
  };
  if (typeof content === 'string') addText(content);
  else if (Array.isArray(content)) {
    content.forEach((part, index) => {
      if (part.type === 'text') addText(part.text);
      else if (part.type === 'refusal') addText(part.refusal);
      else unsupported.push(`${path}.content[${index}] of type "${(part as { type: string }).type}"`);
    });
  }
  if ((content === undefined || content === null) && typeof message.refusal === 'string') addText(message.refusal);
  message.tool_calls?.forEach((call, index) => {
    const block = toolUse(call);
    if (block) blocks.push(block);
    else unsupported.push(`${path}.tool_calls[${index}].function.arguments that are not a JSON object`);
  });
  return blocks;
}

function toolUse(call: ToolCall): AnthropicToolUseBlock | undefined {
  const text = call.function.arguments;
  // A call without parameters may come with "" as its arguments.
  const input = text.trim() === '' ? {} : tryParseJson(text);
  if (!isRecord(input)) return undefined;
  return { type: 'tool_use', id: call.id, name: call.function.name, input };
}

function toolResult(toolCallId: string, content: string | readonly TextPart[], path: string, unsupported: string[]): AnthropicToolResultBlock {
  return {
    type: 'tool_result',
    tool_use_id: toolCallId,
    content: typeof content === 'string' ? content : textBlocks(content, `${path}.content`, unsupported),
  };
}
