import type { Target } from '../../core/settings.js';
import type { BuildOptions, ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../types.js';
import { unsupportedFeatures } from './errors.js';
import { toAnthropicConversation } from './messages.js';
import type { AnthropicRequestBody, AnthropicTool, AnthropicToolChoice } from './wire.js';

/**
 * `max_tokens` when neither the client nor the target's `max_tokens` setting gives one: Anthropic
 * requires it, and 4096 fits every current Claude model's output limit while leaving room for a
 * full answer.
 */
export const defaultMaxTokens = 4096;

/** Fields without a canonical slot that mean the same on Anthropic: passed on as they are. */
const passedExtras: ReadonlySet<string> = new Set(['top_k']);

/**
 * The canonical request as an Anthropic Messages body. Everything is translated or refused:
 * a field Anthropic cannot express makes this throw a `failover` UNSUPPORTED_FEATURE error listing
 * them all, so the engine tries another target instead of sending a silently different request.
 * Only delivery options with no effect on the answer are left behind (`stream_options`: an
 * Anthropic stream always carries usage; an image's `detail`).
 */
export function toAnthropicBody(request: ChatRequest, target: Target, options: BuildOptions): AnthropicRequestBody {
  const unsupported: string[] = [];
  const conversation = toAnthropicConversation(request.messages, unsupported);
  const body: AnthropicRequestBody = {
    model: target.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? target.settings.maxTokens ?? defaultMaxTokens,
    messages: conversation.messages,
  };
  if (conversation.system !== undefined) body.system = conversation.system;
  if (request.stop !== undefined) body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : [...request.stop];
  if (request.temperature !== undefined) {
    // Anthropic's range is 0–1: a higher value would be a 400 there, i.e. a fatal answer to the client.
    if (request.temperature > 1) unsupported.push(`temperature ${request.temperature} (Anthropic accepts 0 to 1)`);
    else body.temperature = request.temperature;
  }
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.tools !== undefined && request.tools.length > 0) body.tools = request.tools.map((tool, index) => toTool(tool, index, unsupported));
  const toolChoice = toToolChoice(request, unsupported);
  if (toolChoice) body.tool_choice = toolChoice;
  const format = request.response_format === undefined ? undefined : toOutputFormat(request.response_format, unsupported);
  if (format) body.output_config = { format };
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.n !== undefined && request.n > 1) unsupported.push(`n=${request.n} (several choices in one answer)`);
  if (request.seed !== undefined) unsupported.push('seed');
  for (const [key, value] of Object.entries(request.extra ?? {})) {
    if (passedExtras.has(key) && typeof value === 'number') body.top_k = value;
    else unsupported.push(`the parameter ${key}`);
  }
  if (options.stream) body.stream = true;
  if (unsupported.length > 0) throw unsupportedFeatures(target, unsupported);
  return body;
}

function toTool(tool: ToolDefinition, index: number, unsupported: string[]): AnthropicTool {
  if (tool.type !== 'function') unsupported.push(`tools[${index}] of type "${String((tool as { type: unknown }).type)}"`);
  const definition = tool.function;
  const result: AnthropicTool = { name: definition.name, input_schema: definition.parameters ?? { type: 'object', properties: {} } };
  if (definition.description !== undefined) result.description = definition.description;
  if (definition.strict === true) result.strict = true;
  return result;
}

/** auto → auto, none → none, required → any, a named function → tool; `parallel_tool_calls: false` rides along. */
function toToolChoice(request: ChatRequest, unsupported: string[]): AnthropicToolChoice | undefined {
  const choice: ToolChoice | undefined = request.tool_choice;
  // `none` takes no parallelism flag, and without tools there is nothing to run in parallel.
  const disableParallel = request.parallel_tool_calls === false && (request.tools?.length ?? 0) > 0 && choice !== 'none';
  const flag = disableParallel ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return disableParallel ? { type: 'auto', ...flag } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...flag };
  if (choice === 'required') return { type: 'any', ...flag };
  if (typeof choice === 'object' && choice.type === 'function' && typeof choice.function?.name === 'string') {
    return { type: 'tool', name: choice.function.name, ...flag };
  }
  unsupported.push(`tool_choice ${JSON.stringify(choice)}`);
  return undefined;
}

/**
 * `json_schema` becomes `output_config.format`. `json_object` ("any JSON") has no Anthropic
 * equivalent: a schema is required there, and emulating it with a prompt would be a different
 * request, so it is refused.
 */
function toOutputFormat(format: ResponseFormat, unsupported: string[]): { type: 'json_schema'; schema: Record<string, unknown> } | undefined {
  if (format.type === 'text') return undefined;
  if (format.type === 'json_schema' && format.json_schema.schema !== undefined) return { type: 'json_schema', schema: format.json_schema.schema };
  if (format.type === 'json_schema') unsupported.push('response_format json_schema without a schema');
  else unsupported.push(`response_format ${format.type} (Anthropic needs a JSON schema: use json_schema)`);
  return undefined;
}
