import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { joinUrl } from '../shared/json.js';
import { rawWithModel } from '../shared/raw-json.js';
import type { BuildOptions, ChatMessage, ChatRequest, UpstreamRequest } from '../types.js';

/** Where an OpenAI or Azure OpenAI account serves the Responses API, and how its key is sent. */
export interface ResponsesDialect {
  responsesUrl(target: Target): string;
  modelsUrl(target: Target): string;
  authHeaders(target: Target): Record<string, string>;
}

export const openAiResponsesDialect: ResponsesDialect = {
  responsesUrl: (target) => joinUrl(target.provider.baseUrl, 'responses'),
  modelsUrl: (target) => joinUrl(target.provider.baseUrl, 'models'),
  authHeaders: (target): Record<string, string> => (target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
};

/** Azure serves the Responses API per resource (the deployment is the body's `model`), not per deployment URL. */
export const azureResponsesDialect: ResponsesDialect = {
  responsesUrl: (target) => `${joinUrl(target.provider.baseUrl, 'openai/responses')}?api-version=${azureVersion(target)}`,
  modelsUrl: (target) => `${joinUrl(target.provider.baseUrl, 'openai/models')}?api-version=${azureVersion(target)}`,
  authHeaders: (target) => ({ 'api-key': target.apiKey }),
};

function azureVersion(target: Target): string {
  const version = target.provider.options.api_version;
  // The Responses API came to Azure with the 2025-03-01-preview version; older ones do not serve it.
  return encodeURIComponent(typeof version === 'string' && version >= '2025-03-01' ? version : '2025-03-01-preview');
}

/** A Responses body sent on as it is, with only the model replaced: the client's own text when it has one (`options.raw`). */
export function buildResponsesRequest(dialect: ResponsesDialect, body: Record<string, unknown>, target: Target, options: BuildOptions): UpstreamRequest {
  let text: string | Buffer;
  if (options.raw && (!options.stream || body.stream === true)) text = rawWithModel(options.raw, target.model);
  else {
    const outgoing: Record<string, unknown> = { ...body, model: target.model };
    if (options.stream) outgoing.stream = true;
    text = JSON.stringify(outgoing);
  }
  return {
    url: dialect.responsesUrl(target),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.provider.headers, ...dialect.authHeaders(target) },
    body: text,
  };
}

/**
 * A canonical (chat) request as a Responses API body. Detour keeps conversations itself, so the
 * upstream is asked not to store this one (`store: false`).
 */
export function canonicalToResponsesBody(request: ChatRequest, target: Target): Record<string, unknown> {
  const unsupported = Object.keys(request.extra ?? {}).map((key) => `"${key}"`);
  if (request.stop !== undefined) unsupported.push('"stop"');
  if (request.n !== undefined && request.n > 1) unsupported.push('"n"');
  if (unsupported.length > 0) {
    throw new DetourError({ kind: 'failover', code: 'UNSUPPORTED_FEATURE', status: 400, target: target.id, message: `${target.id} (Responses API) cannot express ${unsupported.join(', ')}` });
  }
  const body: Record<string, unknown> = { model: target.model, input: request.messages.flatMap(messageItems), store: false };
  if (request.stream) body.stream = true;
  if (request.tools) {
    body.tools = request.tools.map((tool) => ({ type: 'function', name: tool.function.name, description: tool.function.description, parameters: tool.function.parameters ?? { type: 'object', properties: {} }, strict: tool.function.strict ?? false }));
  }
  const choice = request.tool_choice;
  if (choice !== undefined) body.tool_choice = typeof choice === 'string' ? choice : { type: 'function', name: choice.function.name };
  if (request.parallel_tool_calls !== undefined) body.parallel_tool_calls = request.parallel_tool_calls;
  const max = request.max_completion_tokens ?? request.max_tokens;
  if (max !== undefined) body.max_output_tokens = max;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.user !== undefined) body.user = request.user;
  if (request.reasoning_effort !== undefined) body.reasoning = { effort: request.reasoning_effort };
  const format = request.response_format;
  if (format?.type === 'json_object') body.text = { format: { type: 'json_object' } };
  if (format?.type === 'json_schema') body.text = { format: { type: 'json_schema', ...format.json_schema } };
  return body;
}

function messageItems(message: ChatMessage): Record<string, unknown>[] {
  if (message.role === 'tool') return [{ type: 'function_call_output', call_id: message.tool_call_id, output: textOf(message.content) }];
  if (message.role === 'assistant') {
    const items: Record<string, unknown>[] = [];
    const text = typeof message.content === 'string' ? message.content : (message.content ?? []).map((part) => (part.type === 'text' ? part.text : part.refusal)).join('');
    if (text !== '') items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
    for (const call of message.tool_calls ?? []) items.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments });
    return items;
  }
  if (message.role === 'user') {
    const content =
      typeof message.content === 'string'
        ? [{ type: 'input_text', text: message.content }]
        : message.content.map((part) => (part.type === 'text' ? { type: 'input_text', text: part.text } : { type: 'input_image', image_url: part.image_url.url, detail: part.image_url.detail ?? 'auto' }));
    return [{ type: 'message', role: 'user', content }];
  }
  return [{ type: 'message', role: message.role, content: [{ type: 'input_text', text: textOf(message.content) }] }];
}

function textOf(content: string | Array<{ type: 'text'; text: string }>): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}
