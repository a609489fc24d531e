import { randomFillSync } from 'node:crypto';
import { isRecord } from '../shared/json.js';
import type { ChatResponse, FinishReason, ToolCall, Usage } from '../types.js';

/**
 * What one Responses API answer needs besides the upstream's answer: its id, its time, and the
 * request's own settings, which a Response object repeats (`instructions`, `tools`, `text`...).
 */
export interface ResponseContext {
  id: string;
  /** Epoch seconds. */
  createdAt: number;
  /** The client's request as it arrived (before `previous_response_id` was expanded). */
  request: Record<string, unknown>;
  /** Names of the request's custom tools: their calls are `custom_tool_call` items. */
  customTools: ReadonlySet<string>;
}

/**
 * Random bytes for ids, drawn from the system's generator 4 KB at a time: one call per id made an
 * agent's 100-item input cost a third of its request's CPU. Still unguessable (a stored response
 * is fetched by its id).
 */
const idBytes = Buffer.alloc(4096);
let idBytesAt = idBytes.length;

export function newItemId(prefix: string): string {
  if (idBytesAt + 12 > idBytes.length) {
    randomFillSync(idBytes);
    idBytesAt = 0;
  }
  const id = `${prefix}_${idBytes.toString('hex', idBytesAt, idBytesAt + 12)}`;
  idBytesAt += 12;
  return id;
}

export type ResponseStatus = 'completed' | 'incomplete' | 'in_progress' | 'failed';

/** The fields of a Response object that do not depend on the answer, echoing the request. */
export function responseEnvelope(context: ResponseContext, model: string, status: ResponseStatus): Record<string, unknown> {
  const request = context.request;
  const text = isRecord(request.text) ? { format: { type: 'text' }, ...request.text } : { format: { type: 'text' } };
  return {
    id: context.id,
    object: 'response',
    created_at: context.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: typeof request.instructions === 'string' ? request.instructions : null,
    max_output_tokens: typeof request.max_output_tokens === 'number' ? request.max_output_tokens : null,
    max_tool_calls: null,
    model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls !== false,
    previous_response_id: typeof request.previous_response_id === 'string' ? request.previous_response_id : null,
    reasoning: { effort: isRecord(request.reasoning) && typeof request.reasoning.effort === 'string' ? request.reasoning.effort : null, summary: null },
    service_tier: 'default',
    store: request.store !== false,
    temperature: typeof request.temperature === 'number' ? request.temperature : 1,
    text,
    tool_choice: request.tool_choice ?? 'auto',
    tools: Array.isArray(request.tools) ? request.tools : [],
    top_p: typeof request.top_p === 'number' ? request.top_p : 1,
    truncation: typeof request.truncation === 'string' ? request.truncation : 'disabled',
    usage: null,
    user: typeof request.user === 'string' ? request.user : null,
    metadata: isRecord(request.metadata) ? request.metadata : {},
  };
}

/** A finished assistant message item. */
export function messageItem(id: string, text: string, status: 'completed' | 'in_progress' | 'incomplete'): Record<string, unknown> {
  return { id, type: 'message', status, role: 'assistant', content: status === 'in_progress' ? [] : [outputTextPart(text)] };
}

export function outputTextPart(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** A tool call as an output item: a function call, or a custom tool's free-form call. */
export function callItem(id: string, call: ToolCall, status: 'completed' | 'in_progress', context: ResponseContext): Record<string, unknown> {
  if (context.customTools.has(call.function.name)) {
    return { id, type: 'custom_tool_call', status, call_id: call.id, name: call.function.name, input: status === 'in_progress' ? '' : customInput(call.function.arguments) };
  }
  return { id, type: 'function_call', status, call_id: call.id, name: call.function.name, arguments: status === 'in_progress' ? '' : call.function.arguments };
}

/** A custom tool's text, from the `{ "input": ... }` arguments a chat upstream gave it. */
export function customInput(args: string): string {
  try {
    const parsed = JSON.parse(args) as unknown;
    if (isRecord(parsed) && typeof parsed.input === 'string') return parsed.input;
  } catch {
    // The arguments were not JSON: the text is all there is.
  }
  return args;
}

export function responsesUsage(usage: Usage | undefined): Record<string, unknown> {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage?.total_tokens ?? input + output,
  };
}

/** Why an answer stopped short, in the Responses API's words; undefined when it is complete. */
export function incompleteReason(finish: FinishReason | null | undefined): string | undefined {
  if (finish === 'length') return 'max_output_tokens';
  if (finish === 'content_filter') return 'content_filter';
  return undefined;
}

/** A whole chat answer as a Response object. */
export function encodeResponsesBody(response: ChatResponse, context: ResponseContext): Record<string, unknown> {
  const choice = response.choices[0];
  const output: Record<string, unknown>[] = [];
  const text = choice?.message.content;
  if (typeof text === 'string' && text !== '') output.push(messageItem(newItemId('msg'), text, 'completed'));
  for (const call of choice?.message.tool_calls ?? []) output.push(callItem(newItemId('fc'), call, 'completed', context));
  const reason = incompleteReason(choice?.finish_reason);
  const body = responseEnvelope(context, response.model, reason ? 'incomplete' : 'completed');
  body.output = output;
  body.usage = responsesUsage(response.usage);
  if (reason) body.incomplete_details = { reason };
  return body;
}
