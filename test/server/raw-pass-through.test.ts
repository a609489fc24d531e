import { afterEach, describe, expect, it } from 'vitest';
import { BadUpstream, type BadAnswer } from '../helpers/bad-upstream.js';
import { Cleanup, startGateway } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const chatAnswer = JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'up', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
const chatStream = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }] })}\n\ndata: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })}\n\ndata: [DONE]\n\n`;
// As OpenAI writes them: the id first, `previous_response_id: null`; spaced, so that a re-serialized answer shows.
const responsesAnswer = JSON.stringify({ id: 'resp_up', object: 'response', created_at: 1, status: 'completed', model: 'up', previous_response_id: null, output: [{ type: 'message', id: 'msg_up', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'says "resp_up" \\"resp_up\\" and "resp_up', annotations: [] }] }], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } }, null, 1);
const messagesAnswer = JSON.stringify({ id: 'm1', type: 'message', role: 'assistant', model: 'up', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } });

/** Answers like the upstream it stands for; `BadUpstream` keeps the bytes of every body it was sent. */
const answerAsExpected: BadAnswer = (request, response) => {
  const body = upstream.bodies.at(-1) ?? '{}';
  if (request.url?.includes('/messages')) response.writeHead(200, { 'content-type': 'application/json' }).end(messagesAnswer);
  else if (request.url?.includes('/responses')) response.writeHead(200, { 'content-type': 'application/json' }).end(responsesAnswer);
  else if ((JSON.parse(body) as { stream?: boolean }).stream === true) response.writeHead(200, { 'content-type': 'text/event-stream' }).end(chatStream);
  else response.writeHead(200, { 'content-type': 'application/json' }).end(chatAnswer);
};
let upstream: BadUpstream;

async function setup() {
  upstream = cleanup.add(await new BadUpstream(answerAsExpected).listen());
  const gateway = cleanup.add(
    await startGateway({
      providers: {
        openai: { type: 'openai', base_url: `${upstream.url}/v1`, api_key: 'sk-raw-test-0001' },
        claude: { type: 'anthropic', base_url: upstream.url, api_key: 'sk-ant-raw-test-0001' },
        responses: { type: 'openai', api: 'responses', base_url: `${upstream.url}/v1`, api_key: 'sk-raw-test-0002' },
      },
      models: { chat: { targets: [{ provider: 'openai', model: 'gpt-"up"' }] }, claude: { targets: [{ provider: 'claude', model: 'claude-up' }] }, codex: { targets: [{ provider: 'responses', model: 'gpt-codex-up' }] } },
    }),
  );
  const post = async (path: string, body: string): Promise<Response> => {
    const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body });
    await response.clone().text();
    return response;
  };
  return { upstream, post };
}

describe('a pass-through body goes upstream as the client wrote it, the model replaced', () => {
  it('keeps the client’s own bytes: spacing, key order, escapes, fields Detour does not know', async () => {
    const { upstream, post } = await setup();
    const sent = '{\n  "messages" : [ {"role":"user","content":"caf\\u00e9 \\"quoted\\" \\\\ [not {structure}]"} ],\n  "model"\t:  "chat",\n  "x_vendor_field": {"keep": [1, 2.50, true, null]},\n  "max_tokens": 16\n}\n';
    expect((await post('/v1/chat/completions', sent)).status).toBe(200);
    expect(upstream.bodies).toEqual([sent.replace('"chat"', '"gpt-\\"up\\""')]);

    // A byte-order mark is not part of the JSON: the upstream gets the text after it.
    const withBom = '{"model":"chat","messages":[{"role":"user","content":"日本"}]}';
    expect((await post('/v1/chat/completions', `\uFEFF${withBom}`)).status).toBe(200);
    expect(upstream.bodies.at(-1)).toBe(withBom.replace('"chat"', '"gpt-\\"up\\""'));
    upstream.bodies.splice(-1);

    const anthropic = '{"model":"claude","max_tokens":16,\n"messages":[{"role":"user","content":"Hi \\u2028"}],"metadata":{"user_id":"u-1"}}';
    expect((await post('/v1/messages', anthropic)).status).toBe(200);
    expect(upstream.bodies[1]).toBe(anthropic.replace('"claude"', '"claude-up"'));
  });

  it('passes a Responses API request (as Codex sends them) on as written; a follow-up by previous_response_id is expanded instead', async () => {
    const { upstream, post } = await setup();
    const sent = '{"model":"codex", "instructions":"Be brief.","input":[{"role":"user","content":"Hi \\u00e9"}],\n"store":false, "x_vendor":[1,2.50]}';
    const first = await post('/v1/responses', sent);
    expect(first.status).toBe(200);
    expect(upstream.bodies).toEqual([sent.replace('"codex"', '"gpt-codex-up"')]);
    // The client gets Detour's response id, not the upstream's: the answer as the upstream wrote it but for the id.
    const firstText = await first.text();
    const firstId = (JSON.parse(firstText) as { id: string }).id;
    expect(firstId).toMatch(/^resp_/);
    expect(firstId).not.toBe('resp_up');
    expect(firstText).toBe(responsesAnswer.replace('"resp_up"', JSON.stringify(firstId)));

    const stored = await post('/v1/responses', '{"model":"codex","input":"Hi"}');
    const { id, previous_response_id: previous } = (await stored.json()) as { id: string; previous_response_id: unknown };
    expect(id).not.toBe('resp_up');
    expect(previous).toBeNull();
    expect((await post('/v1/responses', `{"model":"codex","previous_response_id":${JSON.stringify(id)},"input":"And?"}`)).status).toBe(200);
    const followUp = JSON.parse(upstream.bodies[2] ?? '{}') as { model: string; input: Array<{ role: string }>; previous_response_id?: string };
    expect(followUp.model).toBe('gpt-codex-up');
    expect(followUp.previous_response_id).toBeUndefined();
    expect(followUp.input.map((item) => item.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('serializes a body with a repeated key from its parsed value: the upstream sees what Detour checked', async () => {
    const { upstream, post } = await setup();
    // A parser that keeps the first max_tokens would see 100000 where Detour counted 16.
    const sent = '{"model":"chat","max_tokens":100000,"messages":[{"role":"user","content":"Hi"}],"max_tokens":16}';
    expect((await post('/v1/chat/completions', sent)).status).toBe(200);
    const nested = '{"model":"chat","messages":[{"role":"user","content":"Hi","content":"Bye"}]}';
    expect((await post('/v1/chat/completions', nested)).status).toBe(200);
    // Two top-level models, one of them escaped.
    const twoModels = '{"model":"other","mod\\u0065l":"chat","messages":[{"role":"user","content":"Hi"}]}';
    expect((await post('/v1/chat/completions', twoModels)).status).toBe(200);
    expect(upstream.bodies).toEqual([
      '{"model":"gpt-\\"up\\"","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]}',
      '{"model":"gpt-\\"up\\"","messages":[{"role":"user","content":"Bye"}]}',
      '{"model":"gpt-\\"up\\"","messages":[{"role":"user","content":"Hi"}]}',
    ]);
  });

  it('asks a streamed answer for its usage: added to the client’s bytes, or merged into its own stream_options', async () => {
    const { upstream, post } = await setup();
    const sent = '{ "model": "chat", "stream": true, "messages": [{"role": "user", "content": "Hi"}] }';
    expect((await post('/v1/chat/completions', sent)).status).toBe(200);
    const withOptions = '{"model":"chat","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"Hi"}]}';
    expect((await post('/v1/chat/completions', withOptions)).status).toBe(200);
    expect(upstream.bodies).toEqual([
      '{ "model": "gpt-\\"up\\"", "stream": true, "messages": [{"role": "user", "content": "Hi"}] ,"stream_options":{"include_usage":true}}',
      '{"model":"gpt-\\"up\\"","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}',
    ]);
  });
});
