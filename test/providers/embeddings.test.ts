import { describe, expect, it } from 'vitest';
import type { Target } from '../../src/core/settings.js';
import { DetourError } from '../../src/core/errors.js';
import { routeUnderTest } from '../../src/drill/drill.js';
import { validateConfig } from '../../src/config/load.js';
import { base64ToFloats, floatsToBase64, geminiEmbeddings, openAiEmbeddings, readEmbeddingsRequest, type EmbeddingsRequest } from '../../src/providers/embeddings/index.js';
import { encodeEmbeddingsResponse } from '../../src/providers/embeddings/ingress.js';
import { parseOpenAiEmbeddings } from '../../src/providers/embeddings/openai.js';
import { parseGeminiEmbeddings } from '../../src/providers/embeddings/gemini.js';
import { providerTypes } from '../../src/providers/registry.js';

function target(type: string, model: string, dimensions?: number): Target {
  return {
    id: `p/${model}`,
    provider: { name: 'p', type, baseUrl: 'http://127.0.0.1:1/v1', apiKeys: ['k'], headers: {}, options: {} },
    model,
    apiKey: 'k',
    keyIndex: 0,
    settings: { provider: 'p', model, weight: 1, dimensions },
  };
}

const request = (body: Record<string, unknown>): EmbeddingsRequest => readEmbeddingsRequest({ model: 'embed', ...body });

function badResponse(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DetourError);
    expect((error as DetourError).code).toBe('UPSTREAM_BAD_RESPONSE');
    return (error as DetourError).message;
  }
  throw new Error('no error');
}

describe('base64 vectors', () => {
  it('are little-endian float32, as the openai SDK decodes them', () => {
    const values = [0.5, -0.25, 1e-3, 3.4e38];
    const base64 = floatsToBase64(values);
    const bytes = Buffer.from(base64, 'base64');
    expect(bytes.length).toBe(16);
    expect(bytes.readFloatLE(4)).toBe(-0.25);
    // The SDK's own decoding: a Float32Array over the bytes (native order, little-endian here).
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 4))).toEqual(values.map(Math.fround));
    expect(base64ToFloats(base64)).toEqual(values.map(Math.fround));
  });
});

describe('the OpenAI embeddings request', () => {
  it('reads one string, strings, one token array and token arrays', () => {
    expect(request({ input: 'a' }).inputs).toEqual(['a']);
    expect(request({ input: ['a', 'b'] }).inputs).toEqual(['a', 'b']);
    expect(request({ input: [1, 2, 3] }).inputs).toEqual([[1, 2, 3]]);
    expect(request({ input: [[1], [2, 3]] }).inputs).toEqual([[1], [2, 3]]);
    expect(request({ input: 'a' }).encoding).toBe('float');
    expect(request({ input: 'a', encoding_format: 'base64', dimensions: 8, user: 'u' })).toMatchObject({ encoding: 'base64', dimensions: 8, user: 'u' });
  });

  it('refuses more than 2,048 inputs and a mix of strings and tokens', () => {
    expect(() => request({ input: Array.from({ length: 2049 }, () => 'x') })).toThrow(/at most 2048/);
    expect(() => request({ input: ['a', [1]] })).toThrow(/input\[1\]/);
  });
});

describe('upstream embeddings answers', () => {
  const two = request({ input: ['a', 'b'] });

  it('puts OpenAI vectors in index order and writes them again when they came out of order', () => {
    const answer = parseOpenAiEmbeddings(
      { object: 'list', data: [{ index: 1, embedding: [3, 4] }, { index: 0, embedding: [1, 2] }], model: 'm', usage: { prompt_tokens: 2, total_tokens: 2 } },
      two,
      target('openai', 'm'),
    );
    expect(answer.vectors).toEqual([{ type: 'float', values: [1, 2] }, { type: 'float', values: [3, 4] }]);
    expect(answer.isClientShape).toBe(false);
    expect(JSON.parse(encodeEmbeddingsResponse(answer))).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [1, 2] }, { object: 'embedding', index: 1, embedding: [3, 4] }],
      model: 'm',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
  });

  it.each([
    ['a repeated index', { data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [2] }] }, /missing or repeated index/],
    ['an index out of range', { data: [{ index: 0, embedding: [1] }, { index: 5, embedding: [2] }] }, /missing or repeated index/],
    ['too few vectors', { data: [{ index: 0, embedding: [1] }] }, /1 embeddings for 2 inputs/],
    ['vectors of two sizes', { data: [{ index: 0, embedding: [1, 2] }, { index: 1, embedding: [1] }] }, /different sizes/],
    ['a vector of strings', { data: [{ index: 0, embedding: ['1'] }, { index: 1, embedding: ['2'] }] }, /not a vector/],
    ['base64 that is not whole float32s', { data: [{ index: 0, embedding: 'AAAAAAA=' }, { index: 1, embedding: 'AAAAAAA=' }] }, /not a vector/],
    ['no data', { object: 'list' }, /without a "data" list/],
  ])('takes %s for a bad response', (_name, json, message) => {
    expect(badResponse(() => parseOpenAiEmbeddings(json, two, target('openai', 'm')))).toMatch(message);
  });

  it('checks the size against the one asked for, the client’s or the target’s', () => {
    const json = { data: [{ index: 0, embedding: [1, 2, 3] }] };
    expect(badResponse(() => parseOpenAiEmbeddings(json, request({ input: 'a', dimensions: 2 }), target('openai', 'm')))).toMatch(/3-dimensional embeddings where 2/);
    expect(badResponse(() => parseOpenAiEmbeddings(json, request({ input: 'a' }), target('openai', 'm', 4)))).toMatch(/where 4/);
    expect(parseOpenAiEmbeddings(json, request({ input: 'a' }), target('openai', 'm')).dimensions).toBe(3);
  });

  it('passes an answer in the client’s encoding on as it came, and estimates usage it lacks', () => {
    const base64 = floatsToBase64([1, 2]);
    const asked = request({ input: 'a', encoding_format: 'base64' });
    const kept = parseOpenAiEmbeddings({ data: [{ index: 0, embedding: base64 }], model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }, asked, target('openai', 'm'));
    expect(kept).toMatchObject({ isClientShape: true, isUsageEstimated: false, dimensions: 2 });
    const floats = parseOpenAiEmbeddings({ data: [{ index: 0, embedding: [1, 2] }] }, asked, target('openai', 'm'));
    expect(floats).toMatchObject({ isClientShape: false, isUsageEstimated: true, usage: { prompt_tokens: 1, total_tokens: 1 } });
    expect(JSON.parse(encodeEmbeddingsResponse(floats)).data[0].embedding).toBe(base64);
  });

  it('reads Gemini single and batch answers', () => {
    expect(parseGeminiEmbeddings({ embedding: { values: [1, 2] } }, request({ input: 'a' }), target('gemini', 'g')).vectors).toHaveLength(1);
    expect(parseGeminiEmbeddings({ embeddings: [{ values: [1] }, { values: [2] }] }, two, target('gemini', 'g')).dimensions).toBe(1);
    expect(badResponse(() => parseGeminiEmbeddings({ embeddings: [{ values: [1] }] }, two, target('gemini', 'g')))).toMatch(/1 embeddings for 2 inputs/);
    expect(badResponse(() => parseGeminiEmbeddings({ embedding: {} }, request({ input: 'a' }), target('gemini', 'g')))).toMatch(/without "values"/);
  });
});

describe('upstream embeddings calls', () => {
  it('skips a Gemini target for token inputs and fields it has no equivalent for', () => {
    const skipped = (body: Record<string, unknown>): DetourError => {
      try {
        geminiEmbeddings.buildRequest(request(body), target('gemini', 'g'));
      } catch (error) {
        return error as DetourError;
      }
      throw new Error('built');
    };
    expect(skipped({ input: [1, 2] })).toMatchObject({ kind: 'failover', code: 'UNSUPPORTED_FEATURE' });
    expect(skipped({ input: 'a', input_type: 'query' }).message).toContain('"input_type"');
    expect(JSON.parse(geminiEmbeddings.buildRequest(request({ input: 'a', user: 'u' }), target('gemini', 'g')).body?.toString() ?? '')).toEqual({ content: { parts: [{ text: 'a' }] } });
  });

  it('sends an OpenAI-compatible upstream the client’s fields, the target’s model and its configured size', () => {
    const call = openAiEmbeddings.buildRequest(request({ input: 'a', user: 'u', input_type: 'query' }), target('openai', 'text-embedding-3-small', 256));
    expect(call.url).toBe('http://127.0.0.1:1/v1/embeddings');
    expect(call.headers.authorization).toBe('Bearer k');
    expect(JSON.parse(call.body?.toString() ?? '')).toEqual({ model: 'text-embedding-3-small', input: 'a', user: 'u', input_type: 'query', encoding_format: 'float', dimensions: 256 });
  });
});

describe('detour drill and embeddings routes', () => {
  it('drills the first chat route, and refuses an embeddings one with the reason', () => {
    const config = validateConfig(
      {
        providers: { p: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_key: 'k' } },
        models: { embed: { kind: 'embeddings', targets: [{ provider: 'p', model: 'text-embedding-3-small' }] }, chat: { targets: [{ provider: 'p', model: 'gpt-4o-mini' }] } },
      },
      { providerTypes: providerTypes(), env: {} },
    );
    expect(routeUnderTest(config, undefined)).toBe('chat');
    expect(() => routeUnderTest(config, 'embed')).toThrow(/embeddings route: a drill sends chat load/);
  });
});
