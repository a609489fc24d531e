import { invalidRequest } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, tryParseJson } from '../shared/json.js';
import type { ChatMessage, RefusalPart, TextPart, ToolCall, UserContentPart } from '../types.js';
import { imageUrlToPart } from './request-image.js';
import type { GeminiContent, GeminiPart } from './schema.js';
import { unsupportedFeature } from './unsupported.js';

/**
 * Google's documented stand-in for a thought signature Detour does not have. Gemini 3 rejects
 * a replayed function call without a signature (400 "Function call is missing a
 * thought_signature"); an OpenAI-shaped history never carries one, so the sentinel tells it to
 * skip the check (https://ai.google.dev/gemini-api/docs/thought-signatures).
 */
export const skipThoughtSignature = 'skip_thought_signature_validator';

export interface GeminiConversation {
  systemInstruction?: { parts: Array<{ text: string }> };
  contents: GeminiContent[];
}

/**
 * Canonical messages as Gemini contents: system and developer messages (wherever they are)
 * become the one `systemInstruction`; assistant turns become `model` turns; tool results
 * become `functionResponse` parts of a `user` turn. Consecutive turns of one role are merged,
 * which also puts the results of parallel calls in one turn, as Gemini requires.
 */
export function toGeminiConversation(messages: readonly ChatMessage[], target: Target): GeminiConversation {
  const systemParts: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  const signCalls = needsThoughtSignatures(target.model);
  let results: ToolResult[] = [];
  const append = (turn: GeminiContent): void => {
    if (turn.parts.length === 0) return;
    const previous = contents[contents.length - 1];
    if (previous?.role === turn.role) previous.parts.push(...turn.parts);
    else contents.push(turn);
  };
  // Without ids, Gemini pairs the results of calls that share a name with those calls by
  // position: results are put in the order of the calls they answer, whatever order they came in.
  const flushResults = (): void => {
    results.sort((a, b) => a.turnIndex - b.turnIndex || a.callIndex - b.callIndex);
    append({ role: 'user', parts: results.map((result) => result.part) });
    results = [];
  };
  messages.forEach((message, index) => {
    // `name` (a participant's name) has no Gemini counterpart and does not change the answer's form: it is not sent.
    if (message.role === 'system' || message.role === 'developer') {
      const text = joinText(message.content);
      if (text !== '') systemParts.push({ text });
      return;
    }
    if (message.role === 'tool') {
      results.push(toolResult(messages, index, message.tool_call_id, message.content));
      return;
    }
    flushResults();
    if (message.role === 'user') append({ role: 'user', parts: userParts(message.content, target) });
    else if (message.role === 'assistant') append({ role: 'model', parts: modelParts(message, index, target, signCalls) });
    // The legacy `function` role passes OpenAI's validation but has no canonical (or Gemini) form.
    else throw unsupportedFeature(target, `a message with the role "${(message as { role: string }).role}" (messages[${index}])`);
  });
  flushResults();
  if (systemParts.length === 0) return { contents };
  // OpenAI answers a conversation of system messages alone; Gemini requires contents, so the
  // instructions become the user's turn.
  if (contents.length === 0) return { contents: [{ role: 'user', parts: systemParts }] };
  return { systemInstruction: { parts: systemParts }, contents };
}

/** Gemini 3 and later check thought signatures on replayed calls; earlier models do not know the field's sentinel. */
export function needsThoughtSignatures(model: string): boolean {
  const major = /(?:^|\/)gemini-(\d+)/.exec(model)?.[1];
  return major !== undefined && Number(major) >= 3;
}

function joinText(content: string | TextPart[]): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

function userParts(content: string | UserContentPart[], target: Target): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  content.forEach((part, index) => {
    if (part.type === 'text') {
      if (part.text !== '') parts.push({ text: part.text });
    } else if (part.type === 'image_url') {
      // `detail` is a cost/fidelity hint with no per-part Gemini equivalent; the image is sent either way.
      parts.push(imageUrlToPart(part.image_url.url, target));
    } else {
      throw unsupportedFeature(target, `a user content part of type "${(part as { type: string }).type}" (content[${index}])`);
    }
  });
  return parts;
}

function modelParts(message: Extract<ChatMessage, { role: 'assistant' }>, index: number, target: Target, signCalls: boolean): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') parts.push({ text: content });
  } else if (Array.isArray(content)) {
    for (const part of content as Array<TextPart | RefusalPart>) {
      // A refusal in the history is what the assistant said: Gemini has no refusal part, only text.
      const text = part.type === 'refusal' ? part.refusal : part.text;
      if (text !== '') parts.push({ text });
    }
  }
  if (parts.length === 0 && typeof message.refusal === 'string' && message.refusal !== '') parts.push({ text: message.refusal });
  (message.tool_calls ?? []).forEach((call, callIndex) => {
    const part: GeminiPart = { functionCall: { name: call.function.name, args: callArguments(call, `messages[${index}].tool_calls[${callIndex}]`, target) } };
    // Only the first call of a turn carries the signature, as Gemini itself returns them.
    if (signCalls && callIndex === 0) part.thoughtSignature = skipThoughtSignature;
    parts.push(part);
  });
  return parts;
}

/** OpenAI sends arguments as a JSON string; Gemini wants the object (a protobuf Struct). */
function callArguments(call: ToolCall, path: string, target: Target): Record<string, unknown> {
  if (call.type !== 'function') throw unsupportedFeature(target, `a tool call of type "${String(call.type)}" (${path})`);
  const text = call.function.arguments.trim();
  if (text === '') return {};
  const parsed = tryParseJson(text);
  if (!isRecord(parsed)) throw unsupportedFeature(target, `tool call arguments that are not a JSON object (${path}.function.arguments)`);
  return parsed;
}

interface ToolResult {
  part: GeminiPart;
  /** Where the call it answers was made: the assistant message, and the call's place in it. */
  turnIndex: number;
  callIndex: number;
}

/**
 * A tool result as a `functionResponse`. Gemini pairs results with calls by function name
 * (its calls usually have no id), so the OpenAI `tool_call_id` is resolved to the name of the
 * call it answers, looking back from this message to the nearest assistant turn that made it.
 */
function toolResult(messages: readonly ChatMessage[], index: number, toolCallId: string, content: string | TextPart[]): ToolResult {
  for (let back = index - 1; back >= 0; back--) {
    const earlier = messages[back];
    if (earlier?.role !== 'assistant') continue;
    const callIndex = earlier.tool_calls?.findIndex((candidate) => candidate.id === toolCallId) ?? -1;
    const call = earlier.tool_calls?.[callIndex];
    if (call) return { part: { functionResponse: { name: call.function.name, response: { output: joinText(content) } } }, turnIndex: back, callIndex };
  }
  // OpenAI rejects this history too: it is the client's, and no target could answer it.
  throw invalidRequest(`'messages[${index}].tool_call_id' ("${toolCallId}") does not answer any earlier assistant tool call.`, `messages[${index}].tool_call_id`);
}
