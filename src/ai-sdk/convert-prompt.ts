import { UnsupportedFunctionalityError, type LanguageModelV3FilePart, type LanguageModelV3Prompt, type LanguageModelV3ToolResultOutput, type SharedV3Warning } from '@ai-sdk/provider';
import type { ChatMessage, TextPart, ToolCall, UserContentPart } from '../providers/types.js';

/**
 * The AI SDK's prompt as OpenAI chat messages, Detour's canonical shape; Detour translates
 * them further for whichever upstream serves the route.
 */
export function convertPrompt(prompt: LanguageModelV3Prompt): { messages: ChatMessage[]; warnings: SharedV3Warning[] } {
  const messages: ChatMessage[] = [];
  const warnings: SharedV3Warning[] = [];
  for (const message of prompt) {
    switch (message.role) {
      case 'system':
        messages.push({ role: 'system', content: message.content });
        break;
      case 'user': {
        const first = message.content[0];
        if (message.content.length === 1 && first?.type === 'text') messages.push({ role: 'user', content: first.text });
        else messages.push({ role: 'user', content: message.content.map((part) => (part.type === 'text' ? text(part.text) : imagePart(part))) });
        break;
      }
      case 'assistant': {
        let content = '';
        const toolCalls: ToolCall[] = [];
        for (const part of message.content) {
          if (part.type === 'text') content += part.text;
          else if (part.type === 'tool-call') toolCalls.push({ id: part.toolCallId, type: 'function', function: { name: part.toolName, arguments: JSON.stringify(part.input ?? {}) } });
          // The canonical shape has no slot for past reasoning or files in an assistant turn; providers that need them get them from their own SDKs.
          else if (part.type === 'reasoning' || part.type === 'file') warnings.push({ type: 'unsupported', feature: `${part.type} parts in assistant messages`, details: 'dropped from the prompt' });
        }
        // Only tool calls: no content at all rather than an empty text, which some upstreams refuse.
        messages.push({ role: 'assistant', content: content === '' && toolCalls.length > 0 ? null : content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) });
        break;
      }
      case 'tool':
        for (const part of message.content) {
          // An approval is the AI SDK's own bookkeeping; the model never sees it.
          if (part.type === 'tool-approval-response') continue;
          messages.push({ role: 'tool', tool_call_id: part.toolCallId, content: toolOutput(part.output) });
        }
        break;
    }
  }
  return { messages, warnings };
}

function text(value: string): TextPart {
  return { type: 'text', text: value };
}

function imagePart(part: LanguageModelV3FilePart): UserContentPart {
  if (!part.mediaType.startsWith('image/')) {
    throw new UnsupportedFunctionalityError({ functionality: `file parts of type ${part.mediaType} (Detour's canonical prompt carries text and images)` });
  }
  if (part.data instanceof URL) return { type: 'image_url', image_url: { url: part.data.toString() } };
  const mediaType = part.mediaType === 'image/*' ? 'image/jpeg' : part.mediaType;
  const base64 = typeof part.data === 'string' ? part.data : Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength).toString('base64');
  return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${base64}` } };
}

function toolOutput(output: LanguageModelV3ToolResultOutput): string {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'execution-denied':
      return output.reason ?? 'Tool execution denied.';
    case 'json':
    case 'error-json':
    case 'content':
      return JSON.stringify(output.value);
  }
}
