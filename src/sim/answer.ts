import { continuationInstruction } from '../core/continuation.js';
import { exampleFor } from './schema-example.js';
import type { ChatChunk, ChatRequest, ChatMessage, ChatResponse, ToolCall, ToolDefinition, Usage } from '../providers/types.js';

export interface AnswerStyle {
  /** `fixed` says the same thing every time; `echo` repeats the last user message. */
  mode: 'fixed' | 'echo';
  text: string;
  /** How many content chunks a stream is split into. */
  chunks: number;
  /**
   * Asked to continue a partial answer (an assistant prefill, or an assistant message followed
   * by Detour's instruction to continue), the simulator answers the rest of its answer, starting
   * this many characters early: a model that repeats the end of the prefix.
   */
  continuationOverlap?: number;
}

export const defaultAnswerStyle: AnswerStyle = {
  mode: 'fixed',
  text: 'Hello from the Detour simulator. This answer was generated without calling any real provider.',
  chunks: 8,
};

let counter = 0;
const nextId = (prefix: string): string => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Roughly four characters per token, as providers' tokenizers average for English. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part && typeof part === 'object' && 'text' in part ? String((part as { text: unknown }).text) : '')).join('');
}

function countImages(request: ChatRequest): number {
  let images = 0;
  for (const message of request.messages) {
    if (message.role === 'user' && Array.isArray(message.content)) images += message.content.filter((part) => part.type === 'image_url').length;
  }
  return images;
}

/** Fills a tool's arguments from its JSON schema with values that validate against it. */
function exampleArguments(tool: ToolDefinition): Record<string, unknown> {
  const value = exampleFor(tool.function.parameters ?? { type: 'object' });
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The tool the model "decides" to call: the one `tool_choice` forces (or any, for `required`),
 * whatever came last; otherwise the first tool offered, when the last turn is the user's.
 */
function chooseTool(request: ChatRequest): ToolDefinition | undefined {
  const tools = request.tools;
  if (!tools || tools.length === 0 || request.tool_choice === 'none') return undefined;
  const choice = request.tool_choice;
  if (typeof choice === 'object') return tools.find((tool) => tool.function.name === choice.function.name) ?? tools[0];
  if (choice === 'required') return tools[0];
  const last = request.messages[request.messages.length - 1];
  if (!last || last.role !== 'user') return undefined;
  return tools[0];
}

/** Structured output: JSON that validates against the requested schema (or any JSON object). */
function structuredText(request: ChatRequest): string | undefined {
  const format = request.response_format;
  if (format?.type === 'json_schema') return JSON.stringify(exampleFor(format.json_schema.schema ?? { type: 'object' }));
  if (format?.type === 'json_object') return JSON.stringify({ answer: defaultAnswerStyle.text });
  return undefined;
}

export interface SimAnswer {
  id: string;
  model: string;
  text: string | null;
  toolCalls: ToolCall[];
  finishReason: 'stop' | 'tool_calls' | 'length';
  usage: Usage;
}

/** The partial answer a request asks to continue, and the conversation before it; undefined for an ordinary request. */
function continuationOf(messages: readonly ChatMessage[]): { prefix: string; before: ChatMessage[] } | undefined {
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant' && typeof messageText(last.content) === 'string' && messageText(last.content) !== '' && !last.tool_calls) {
    return { prefix: messageText(last.content), before: messages.slice(0, -1) };
  }
  const previous = messages[messages.length - 2];
  if (last?.role === 'user' && messageText(last.content) === continuationInstruction && previous?.role === 'assistant') {
    return { prefix: messageText(previous.content), before: messages.slice(0, -2) };
  }
  return undefined;
}

/** What the simulated model says to a request. */
export function answer(request: ChatRequest, style: AnswerStyle): SimAnswer {
  const continuation = continuationOf(request.messages);
  if (continuation) {
    const whole = answer({ ...request, messages: continuation.before }, style);
    if (whole.text !== null && whole.text.startsWith(continuation.prefix)) {
      const text = whole.text.slice(Math.max(0, continuation.prefix.length - (style.continuationOverlap ?? 0)));
      const promptTokens = estimateTokens(request.messages.map((message) => messageText(message.content)).join('\n'));
      return { ...whole, text, usage: usage(promptTokens, estimateTokens(text)) };
    }
    return whole;
  }
  const promptText = request.messages.map((message) => messageText(message.content)).join('\n');
  const promptTokens = estimateTokens(promptText) + 85 * countImages(request);
  const tool = chooseTool(request);
  if (tool) {
    const call: ToolCall = { id: nextId('call_'), type: 'function', function: { name: tool.function.name, arguments: JSON.stringify(exampleArguments(tool)) } };
    const completion = estimateTokens(call.function.arguments) + 5;
    return { id: nextId('chatcmpl-sim'), model: request.model, text: null, toolCalls: [call], finishReason: 'tool_calls', usage: usage(promptTokens, completion) };
  }
  const last = request.messages[request.messages.length - 1];
  const structured = structuredText(request);
  if (structured !== undefined) return { id: nextId('chatcmpl-sim'), model: request.model, text: structured, toolCalls: [], finishReason: 'stop', usage: usage(promptTokens, estimateTokens(structured)) };
  let text: string;
  if (last?.role === 'tool') text = `The tool returned: ${messageText(last.content)}`;
  else if (style.mode === 'echo') text = messageText([...request.messages].reverse().find((message) => message.role === 'user')?.content) || style.text;
  else text = style.text;
  const images = countImages(request);
  if (images > 0 && last?.role !== 'tool') text = `I see ${images} image${images > 1 ? 's' : ''}. ${text}`;
  let finishReason: SimAnswer['finishReason'] = 'stop';
  const limit = request.max_completion_tokens ?? request.max_tokens;
  if (limit !== undefined && estimateTokens(text) > limit) {
    text = text.slice(0, Math.max(1, limit * 4));
    finishReason = 'length';
  }
  return { id: nextId('chatcmpl-sim'), model: request.model, text, toolCalls: [], finishReason, usage: usage(promptTokens, estimateTokens(text)) };
}

function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function toResponse(simAnswer: SimAnswer): ChatResponse {
  return {
    id: simAnswer.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: simAnswer.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: simAnswer.text, refusal: null, ...(simAnswer.toolCalls.length > 0 ? { tool_calls: simAnswer.toolCalls } : {}) },
        finish_reason: simAnswer.finishReason,
        logprobs: null,
      },
    ],
    usage: simAnswer.usage,
  };
}

/** The answer as canonical chunks: role, content pieces (or tool call pieces), finish, usage. */
export function toChunks(simAnswer: SimAnswer, pieces: number): ChatChunk[] {
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: ChatChunk['choices'][number]['delta'], finish: ChatChunk['choices'][number]['finish_reason'] = null): ChatChunk => ({
    id: simAnswer.id,
    object: 'chat.completion.chunk',
    created,
    model: simAnswer.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  // Like the real providers, the simulator knows the prompt's size from the start (Anthropic's message_start, Gemini's first chunk).
  const prompt = simAnswer.usage.prompt_tokens;
  const chunks: ChatChunk[] = [{ ...chunk({ role: 'assistant', content: '' }), promptUsage: { prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt } }];
  if (simAnswer.text !== null) {
    for (const piece of split(simAnswer.text, pieces)) chunks.push(chunk({ content: piece }));
  }
  simAnswer.toolCalls.forEach((call, index) => {
    chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
    for (const piece of split(call.function.arguments, 2)) chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  chunks.push(chunk({}, simAnswer.finishReason));
  chunks.push({ id: simAnswer.id, object: 'chat.completion.chunk', created, model: simAnswer.model, choices: [], usage: simAnswer.usage });
  return chunks;
}

function split(text: string, pieces: number): string[] {
  if (text.length === 0) return [];
  const count = Math.max(1, Math.min(pieces, text.length));
  const size = Math.ceil(text.length / count);
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += size) parts.push(text.slice(start, start + size));
  return parts;
}
