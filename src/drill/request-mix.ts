import type { Random } from '../core/clock.js';

/** One request the load generator sends: ready to go on the wire. */
export interface RequestSpec {
  format: 'openai' | 'anthropic';
  stream: boolean;
  hasTools: boolean;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Shares of the traffic, each in [0, 1]. */
export interface MixShares {
  /** Requests sent with the Anthropic Messages API rather than OpenAI's Chat Completions. */
  anthropic: number;
  stream: number;
  /** Requests that offer tools; a third of them carry a tool result back. */
  tools: number;
}

/** Roughly what a chat product sends: half streamed, a quarter with tools, some Anthropic clients. */
export const defaultMixShares: MixShares = { anthropic: 0.2, stream: 0.5, tools: 0.25 };

const systemPrompts = [
  'You are a concise assistant for an online shop. Answer in at most three sentences.',
  'You are a senior engineer reviewing code. Be specific and kind.',
  'You help customers track orders. Use the tools when an order number is given.',
];

const userPrompts = [
  'Hello! What can you do?',
  'Summarize the return policy for electronics bought during the holiday sale, and say whether opened items can be returned.',
  'Where is my order 48213? It was supposed to arrive yesterday.',
  'Write a short haiku about failover.',
  'Explain the difference between a retry and a failover in two sentences. Then give one example of each from a payment system, and one risk of retrying a non-idempotent call.',
  'What will the weather be like in Paris tomorrow? I need to decide whether to bring an umbrella to the conference.',
];

interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

const tools: ToolSpec[] = [
  {
    name: 'get_weather',
    description: 'The weather forecast for a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'] },
  },
  {
    name: 'lookup_order',
    description: 'An order by its number: status, carrier and expected delivery.',
    parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
  },
];

const toolResult = JSON.stringify({ status: 'in_transit', carrier: 'DHL', expected: '2025-06-03' });

function pick<T>(items: readonly T[], random: Random): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** The next request of a drill's load: its shape drawn from `random`, its model the route under test. */
export function nextRequest(route: string, random: Random, shares: MixShares = defaultMixShares): RequestSpec {
  const format = random() < shares.anthropic ? 'anthropic' : 'openai';
  const stream = random() < shares.stream;
  const hasTools = random() < shares.tools;
  const isToolResult = hasTools && random() < 1 / 3;
  const shape = { system: pick(systemPrompts, random), user: pick(userPrompts, random), maxTokens: 64 + Math.floor(random() * 448), stream, hasTools, isToolResult };
  return format === 'openai' ? openAiRequest(route, shape) : anthropicRequest(route, shape);
}

interface Shape {
  system: string;
  user: string;
  maxTokens: number;
  stream: boolean;
  hasTools: boolean;
  isToolResult: boolean;
}

function openAiRequest(route: string, shape: Shape): RequestSpec {
  const messages: unknown[] = [
    { role: 'system', content: shape.system },
    { role: 'user', content: shape.user },
  ];
  if (shape.isToolResult) {
    messages.push(
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_drill_1', type: 'function', function: { name: 'lookup_order', arguments: '{"order_id":"48213"}' } }] },
      { role: 'tool', tool_call_id: 'call_drill_1', content: toolResult },
    );
  }
  const body = {
    model: route,
    messages,
    max_tokens: shape.maxTokens,
    temperature: 0.7,
    ...(shape.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    ...(shape.hasTools ? { tools: tools.map((tool) => ({ type: 'function', function: tool })), tool_choice: 'auto' } : {}),
  };
  return { format: 'openai', stream: shape.stream, hasTools: shape.hasTools, path: '/v1/chat/completions', headers: { 'content-type': 'application/json', authorization: 'Bearer drill' }, body: JSON.stringify(body) };
}

function anthropicRequest(route: string, shape: Shape): RequestSpec {
  const messages: unknown[] = [{ role: 'user', content: shape.user }];
  if (shape.isToolResult) {
    messages.push(
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_drill_1', name: 'lookup_order', input: { order_id: '48213' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_drill_1', content: toolResult }] },
    );
  }
  const body = {
    model: route,
    system: shape.system,
    messages,
    max_tokens: shape.maxTokens,
    ...(shape.stream ? { stream: true } : {}),
    ...(shape.hasTools ? { tools: tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters })) } : {}),
  };
  return {
    format: 'anthropic',
    stream: shape.stream,
    hasTools: shape.hasTools,
    path: '/v1/messages',
    headers: { 'content-type': 'application/json', 'x-api-key': 'drill', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  };
}
