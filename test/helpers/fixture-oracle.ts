import type { FinishReason } from '../../src/providers/types.js';
import type { FixtureFormat } from './fixture-sets.js';

/**
 * What a provider answer says, read straight from its wire format as the providers document it,
 * independently of the adapters: the expectations of the checks that run over every fixture,
 * whatever its content. Finish reasons and token counts follow the documented meaning of each
 * provider's fields, mapped onto OpenAI's shape.
 */
export interface AnswerFacts {
  /** The answer's own id (`id`, or Gemini's `responseId`), when it has one. */
  id: string | undefined;
  model: string | undefined;
  /** The answer text, thoughts excluded. */
  text: string;
  /** An explanation given with a refusal, else ''. */
  refusal: string;
  toolCalls: ToolCallFacts[];
  /** Undefined for a reason with no OpenAI counterpart (then nothing is asserted). */
  finishReason: FinishReason | undefined;
  usage: UsageFacts | undefined;
}

export interface ToolCallFacts {
  /** The upstream's id; Gemini often gives none (the adapter makes one). */
  id: string | undefined;
  name: string;
  /** The arguments as a value (OpenAI's JSON string parsed). */
  args: unknown;
}

export interface UsageFacts {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Present when the answer says how much of the prompt was read from a cache. */
  cached_tokens?: number;
  /** Present when the answer counts thinking tokens apart. */
  reasoning_tokens?: number;
}

type Json = Record<string, unknown>;

const record = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/** A whole (non-streaming) answer body. */
export function answerFacts(format: FixtureFormat, body: unknown): AnswerFacts {
  if (format === 'openai') return openAiAnswer(record(body));
  if (format === 'anthropic') return anthropicAnswer(record(body));
  return geminiAnswer([record(body)]);
}

/** A stream, as the JSON payloads of its events in order. */
export function streamFacts(format: FixtureFormat, payloads: readonly unknown[]): AnswerFacts {
  if (format === 'openai') return openAiStream(payloads.map(record));
  if (format === 'anthropic') return anthropicStream(payloads.map(record));
  return geminiAnswer(payloads.map(record));
}

// OpenAI: the canonical shape already.

function openAiAnswer(body: Json): AnswerFacts {
  const choice = record(list(body.choices)[0]);
  const message = record(choice.message);
  return {
    id: text(body.id),
    model: text(body.model),
    text: text(message.content) ?? '',
    refusal: text(message.refusal) ?? '',
    toolCalls: list(message.tool_calls).map((call) => {
      const fn = record(record(call).function);
      return { id: text(record(call).id), name: text(fn.name) ?? '', args: JSON.parse(text(fn.arguments) ?? 'null') as unknown };
    }),
    finishReason: text(choice.finish_reason) as FinishReason | undefined,
    usage: openAiUsage(body.usage),
  };
}

function openAiStream(chunks: Json[]): AnswerFacts {
  let content = '';
  let refusal = '';
  let finishReason: FinishReason | undefined;
  let usage: UsageFacts | undefined;
  const calls: Array<{ id: string | undefined; name: string; args: string }> = [];
  for (const chunk of chunks) {
    if (chunk.usage) usage = openAiUsage(chunk.usage);
    for (const choice of list(chunk.choices).map(record)) {
      const delta = record(choice.delta);
      content += text(delta.content) ?? '';
      refusal += text(delta.refusal) ?? '';
      for (const piece of list(delta.tool_calls).map(record)) {
        const fn = record(piece.function);
        const call = (calls[count(piece.index)] ??= { id: undefined, name: '', args: '' });
        call.id ??= text(piece.id);
        call.name += text(fn.name) ?? '';
        call.args += text(fn.arguments) ?? '';
      }
      finishReason = (text(choice.finish_reason) as FinishReason | undefined) ?? finishReason;
    }
  }
  const first = chunks[0] ?? {};
  return {
    id: text(first.id),
    model: text(first.model),
    text: content,
    refusal,
    toolCalls: calls.map((call) => ({ id: call.id, name: call.name, args: JSON.parse(call.args) as unknown })),
    finishReason,
    usage,
  };
}

function openAiUsage(value: unknown): UsageFacts | undefined {
  if (value === null || value === undefined) return undefined;
  const usage = record(value);
  const cached = record(usage.prompt_tokens_details).cached_tokens;
  const reasoning = record(usage.completion_tokens_details).reasoning_tokens;
  return {
    prompt_tokens: count(usage.prompt_tokens),
    completion_tokens: count(usage.completion_tokens),
    total_tokens: count(usage.total_tokens),
    ...(typeof cached === 'number' ? { cached_tokens: cached } : {}),
    ...(typeof reasoning === 'number' ? { reasoning_tokens: reasoning } : {}),
  };
}

// Anthropic: content blocks, stop_reason, input tokens without the cache.

const anthropicFinish: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

function anthropicAnswer(body: Json): AnswerFacts {
  const blocks = list(body.content).map(record);
  const stopReason = text(body.stop_reason) ?? '';
  return {
    id: text(body.id),
    model: text(body.model),
    text: blocks.map((block) => (block.type === 'text' ? (text(block.text) ?? '') : '')).join(''),
    refusal: stopReason === 'refusal' ? (text(record(body.stop_details).explanation) ?? '') : '',
    toolCalls: blocks.filter((block) => block.type === 'tool_use').map((block) => ({ id: text(block.id), name: text(block.name) ?? '', args: block.input })),
    finishReason: anthropicFinish[stopReason],
    usage: anthropicUsage(record(body.usage)),
  };
}

function anthropicStream(events: Json[]): AnswerFacts {
  const start = record(events.find((event) => event.type === 'message_start')?.message);
  let usage: Json = { ...record(start.usage) };
  let stopReason = '';
  let refusal = '';
  let content = '';
  const blocks = new Map<number, { id: string | undefined; name: string; json: string }>();
  for (const event of events) {
    if (event.type === 'content_block_start' && record(event.content_block).type === 'tool_use') {
      const block = record(event.content_block);
      blocks.set(count(event.index), { id: text(block.id), name: text(block.name) ?? '', json: '' });
    } else if (event.type === 'content_block_delta') {
      const delta = record(event.delta);
      if (delta.type === 'text_delta') content += text(delta.text) ?? '';
      if (delta.type === 'input_json_delta') {
        const block = blocks.get(count(event.index));
        if (block) block.json += text(delta.partial_json) ?? '';
      }
    } else if (event.type === 'message_delta') {
      const delta = record(event.delta);
      stopReason = text(delta.stop_reason) ?? stopReason;
      if (stopReason === 'refusal') refusal = text(record(delta.stop_details).explanation) ?? refusal;
      // Counts in message_delta are cumulative: they replace those of message_start.
      usage = { ...usage, ...record(event.usage) };
    }
  }
  return {
    id: text(start.id),
    model: text(start.model),
    text: content,
    refusal,
    // An empty input streams no JSON at all: it is `{}`.
    toolCalls: [...blocks.entries()].sort(([a], [b]) => a - b).map(([, block]) => ({ id: block.id, name: block.name, args: JSON.parse(block.json === '' ? '{}' : block.json) as unknown })),
    finishReason: anthropicFinish[stopReason],
    usage: anthropicUsage(usage),
  };
}

function anthropicUsage(usage: Json): UsageFacts | undefined {
  if (typeof usage.input_tokens !== 'number' || typeof usage.output_tokens !== 'number') return undefined;
  const prompt = usage.input_tokens + count(usage.cache_creation_input_tokens) + count(usage.cache_read_input_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    ...(typeof usage.cache_read_input_tokens === 'number' ? { cached_tokens: usage.cache_read_input_tokens } : {}),
  };
}

// Gemini: each event a whole GenerateContentResponse holding the new parts; a whole answer is one event.

const geminiFiltered = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'LANGUAGE', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);

function geminiAnswer(events: Json[]): AnswerFacts {
  let content = '';
  let reason: string | undefined;
  let usage: UsageFacts | undefined;
  const calls: ToolCallFacts[] = [];
  let open: { id: string | undefined; name: string; args: Json } | undefined;
  const close = () => {
    if (open) calls.push({ id: open.id, name: open.name, args: open.args });
    open = undefined;
  };
  for (const event of events) {
    const candidate = record(list(event.candidates)[0]);
    for (const part of list(record(candidate.content).parts).map(record)) {
      if (typeof part.text === 'string' && part.thought !== true) content += part.text;
      if (part.functionCall === undefined) continue;
      const call = record(part.functionCall);
      if (typeof call.name === 'string') {
        close();
        open = { id: text(call.id), name: call.name, args: { ...record(call.args) } };
      }
      // Vertex streams arguments in pieces (`partialArgs`) until a part without `willContinue`.
      for (const piece of list(call.partialArgs).map(record)) if (open) applyPiece(open.args, piece);
      if (call.willContinue !== true) close();
    }
    reason = text(candidate.finishReason) ?? reason;
    usage = geminiUsage(record(event.usageMetadata)) ?? usage;
  }
  close();
  const last = events.at(-1) ?? {};
  return {
    id: text(last.responseId) ?? text(events[0]?.responseId),
    model: text(last.modelVersion) ?? text(events[0]?.modelVersion),
    text: content,
    refusal: '',
    toolCalls: calls,
    finishReason: reason === 'STOP' ? (calls.length > 0 ? 'tool_calls' : 'stop') : reason === 'MAX_TOKENS' ? 'length' : reason !== undefined && geminiFiltered.has(reason) ? 'content_filter' : undefined,
    usage,
  };
}

function geminiUsage(usage: Json): UsageFacts | undefined {
  if (typeof usage.totalTokenCount !== 'number') return undefined;
  return {
    prompt_tokens: count(usage.promptTokenCount) + count(usage.toolUsePromptTokenCount),
    // Thinking counts as output, so that prompt + completion is the total.
    completion_tokens: count(usage.candidatesTokenCount) + count(usage.thoughtsTokenCount),
    total_tokens: usage.totalTokenCount,
    ...(typeof usage.cachedContentTokenCount === 'number' ? { cached_tokens: usage.cachedContentTokenCount } : {}),
    ...(typeof usage.thoughtsTokenCount === 'number' ? { reasoning_tokens: usage.thoughtsTokenCount } : {}),
  };
}

/** One argument piece: a JSON path (`$.a.b`, `$.list[0]`) and a value; strings arrive in fragments. */
function applyPiece(args: Json, piece: Json): void {
  const path = text(piece.jsonPath) ?? '';
  const keys = [...path.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((match) => (match[2] !== undefined ? Number(match[2]) : (match[1] ?? '')));
  if (!path.startsWith('$') || keys.length === 0) throw new Error(`cannot read the argument path ${JSON.stringify(path)}`);
  let container: Json | unknown[] = args;
  for (const [position, key] of keys.slice(0, -1).entries()) {
    const slot = (container as Record<string | number, unknown>)[key];
    const child = slot ?? (typeof keys[position + 1] === 'number' ? [] : {});
    (container as Record<string | number, unknown>)[key] = child;
    container = child as Json | unknown[];
  }
  const last = keys.at(-1) as string | number;
  const slots = container as Record<string | number, unknown>;
  if (typeof piece.stringValue === 'string') slots[last] = (text(slots[last]) ?? '') + piece.stringValue;
  else if ('numberValue' in piece) slots[last] = piece.numberValue;
  else if ('boolValue' in piece) slots[last] = piece.boolValue;
  else if ('nullValue' in piece) slots[last] = null;
  else throw new Error(`cannot read the argument piece ${JSON.stringify(piece)}`);
}
