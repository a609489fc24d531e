import type { ChatResponse } from '../../../src/providers/types.js';
import { fixtureEvents, fixtureJson } from './fixtures.js';
import { plainRequest, richRequest } from './requests.js';
import { makeTarget, type AdapterCases } from './types.js';

const apiKey = 'sk-test-openai-0001';
const target = makeTarget('openai', 'https://api.openai.com/v1', 'gpt-4o-mini', apiKey);
const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };

/** The canonical request is OpenAI's own shape: only the model changes (and stream usage is asked for). */
const { model: _route, ...richFields } = richRequest;

export const openAiCases: AdapterCases[] = [
  {
    provider: 'openai',
    target,
    requests: [
      {
        name: 'a rich request goes out as it came, with the target model',
        request: richRequest,
        stream: false,
        expected: { url: 'https://api.openai.com/v1/chat/completions', method: 'POST', headers, body: { ...richFields, model: 'gpt-4o-mini' } },
      },
      {
        name: 'a stream asks for usage, for cost accounting',
        request: { ...richRequest, stream: true },
        stream: true,
        expected: {
          url: 'https://api.openai.com/v1/chat/completions',
          method: 'POST',
          headers,
          body: { ...richFields, model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true } },
        },
      },
      {
        name: 'Azure names the deployment and the API version in the URL and sends the key as api-key',
        request: plainRequest,
        stream: false,
        target: makeTarget('azure-openai', 'https://acme.openai.azure.com/', 'gpt-4o', apiKey, { api_version: '2024-10-21' }),
        expected: {
          url: 'https://acme.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'api-key': apiKey },
          body: { model: 'gpt-4o', messages: plainRequest.messages },
        },
      },
    ],
    passThrough: [
      {
        name: 'an OpenAI body keeps every field; only the model is replaced',
        body: { model: 'smart', messages: [{ role: 'user', content: 'Hi' }], logit_bias: { '50256': -100 } },
        stream: false,
        expected: {
          url: 'https://api.openai.com/v1/chat/completions',
          method: 'POST',
          headers,
          body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], logit_bias: { '50256': -100 } },
        },
      },
    ],
    refused: [
      {
        // Only a request translated from another format reaches this adapter with `extra`;
        // OpenAI would answer its fields with a 400 that looks like the client's fault.
        name: 'fields of another format (in `extra`) are refused, named',
        request: { ...plainRequest, extra: { safetySettings: [], 'generationConfig.topK': 40 } },
        expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: '"safetySettings", "generationConfig.topK"' },
      },
    ],
    responses: [
      {
        name: 'a text completion is used as it is',
        fixture: 'openai/text.json',
        expected: fixtureJson('openai/text.json') as ChatResponse,
      },
    ],
    streams: [
      {
        name: 'a text stream with usage passes chunk for chunk, unknown fields included',
        fixture: 'openai/text.chunks.txt',
        expected: fixtureEvents('openai/text.chunks.txt') as AdapterCases['streams'][number]['expected'],
      },
    ],
    errors: [
      {
        name: 'an invalid parameter is the client\'s own error',
        status: 400,
        fixture: 'openai/error-invalid-parameter.json',
        expected: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' },
      },
      {
        name: 'a rate limit is retried after the wait the upstream asked for',
        status: 429,
        headers: { 'retry-after-ms': '1200' },
        body: { error: { message: 'Rate limit reached for gpt-4o-mini on tokens per min (TPM).', type: 'tokens', param: null, code: 'rate_limit_exceeded' } },
        expected: { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 1200 },
      },
      {
        name: 'a spent quota is not retried on this key',
        status: 429,
        body: { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } },
        expected: { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' },
      },
      {
        name: 'a context too long for this model fails over to a larger one',
        status: 400,
        body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } },
        expected: { kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' },
      },
      {
        name: 'a rejected key fails over to the next key',
        status: 401,
        body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
        expected: { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' },
      },
      {
        name: 'an overloaded upstream is retried',
        status: 503,
        body: { error: { message: 'The engine is currently overloaded.', type: 'server_error', param: null, code: null } },
        expected: { kind: 'retryable', code: 'UPSTREAM_OVERLOADED' },
      },
    ],
    probe: { url: 'https://api.openai.com/v1/models', method: 'GET', headers: { authorization: `Bearer ${apiKey}` } },
  },
];

