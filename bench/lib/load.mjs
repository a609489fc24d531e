// One throughput cell: autocannon (programmatic) at N connections for D seconds against one URL.
// Latencies are kept at full precision from autocannon's per-response event (its own histogram
// rounds to whole milliseconds, too coarse for sub-millisecond overheads).
import autocannon from 'autocannon';
import { summarize } from './stats.mjs';

let agentBodyKb = 0;

/**
 * `--body-kb N`: every row sends a conversation of about N KB, shaped as coding agents send them
 * (a long system prompt, turns of code with quotes and escapes, tool definitions), instead of one
 * short question. 0 (the default) is the short question.
 */
export function setBodyKb(kb) {
  agentBodyKb = kb;
}

function agentMessages(kb) {
  const turn = (index) => `line ${index} of "code" with \\ escapes, {braces} and [brackets] in a string\n`.repeat(12);
  const messages = [{ role: 'system', content: 'You are a coding agent working in a repository. '.repeat(40) }];
  while (JSON.stringify(messages).length < kb * 1024 - 3000) messages.push({ role: messages.length % 2 === 1 ? 'user' : 'assistant', content: turn(messages.length) });
  return messages;
}

const agentTools = Array.from({ length: 8 }, (_, index) => ({
  type: 'function',
  function: { name: `tool_${index}`, description: 'Reads or edits files of the repository. '.repeat(4), parameters: { type: 'object', properties: { path: { type: 'string' }, lines: { type: 'array', items: { type: 'integer' } } }, required: ['path'] } },
}));

/** The chat request every row sends; only `model` (and `stream` for the streamed rows) differ between rows. */
export function chatBody(model, isStream = false) {
  const conversation = agentBodyKb > 0 ? { messages: agentMessages(agentBodyKb), tools: agentTools } : { messages: [{ role: 'user', content: 'Say hello.' }] };
  return JSON.stringify({ model, ...conversation, max_tokens: 64, ...(isStream ? { stream: true } : {}) });
}

/**
 * The Responses API request the `responses` rows send, as Codex sends them: the conversation as
 * `input` items, tools in the Responses shape, `store: false`.
 */
export function responsesBody(model) {
  if (agentBodyKb === 0) return JSON.stringify({ model, input: 'Say hello.', max_output_tokens: 64, store: false });
  const tools = agentTools.map(({ function: tool }) => ({ type: 'function', name: tool.name, description: tool.description, parameters: tool.parameters }));
  return JSON.stringify({ model, input: agentMessages(agentBodyKb), tools, max_output_tokens: 64, store: false });
}

/**
 * @param options.url          full chat-completions URL (or Responses URL with `api: 'responses'`)
 * @param options.model        model name for the body
 * @param options.connections  concurrent keep-alive connections
 * @param options.durationS    seconds to run
 * @param options.headers      extra request headers (e.g. authorization for another gateway)
 * @param options.isStream     ask for a streamed answer (a 2xx counts once the whole stream has arrived)
 * @param options.api          'chat' (default) or 'responses': which request body is sent
 * @param options.onTick       called about every 250 ms with elapsed seconds (progress)
 */
export async function runLoad({ url, model, connections, durationS, headers = {}, isStream = false, api = 'chat', onTick }) {
  const latenciesMs = [];
  const statusCounts = {};
  let ok = 0;
  let upstreamCalls = 0;
  let upstreamCallsSeen = 0;
  const startedAt = performance.now();
  const instance = autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: api === 'responses' ? responsesBody(model) : chatBody(model, isStream),
    connections,
    duration: durationS,
    pipelining: 1,
    timeout: 10,
    // Detour says how many upstream calls served each request; other servers leave it out.
    setupClient(client) {
      client.on('headers', ({ headers: raw }) => {
        for (let index = 0; index + 1 < raw.length; index += 2) {
          if (raw[index].length === 17 && raw[index].toLowerCase() === 'x-detour-attempts') {
            upstreamCalls += Number(raw[index + 1]);
            upstreamCallsSeen++;
            return;
          }
        }
      });
    },
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) {
      ok++;
      latenciesMs.push(responseTimeMs);
    }
  });
  const ticker = onTick ? setInterval(() => onTick((performance.now() - startedAt) / 1000), 250) : undefined;
  let result;
  try {
    result = await instance;
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const elapsedS = (performance.now() - startedAt) / 1000;
  const responses = Object.values(statusCounts).reduce((sum, count) => sum + count, 0);
  const latency = summarize(latenciesMs);
  return {
    connections,
    durationS: elapsedS,
    responses,
    ok,
    requestsPerSecond: ok / elapsedS,
    latencyP50Ms: latency.p50,
    latencyP99Ms: latency.p99,
    latencyMeanMs: latency.mean,
    non2xx: responses - ok,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts,
    upstreamCallsPerRequest: upstreamCallsSeen > 0 ? upstreamCalls / upstreamCallsSeen : undefined,
    upstreamCallsTotal: upstreamCallsSeen > 0 ? upstreamCalls : undefined,
  };
}
