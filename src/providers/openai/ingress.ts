import { isRecord } from '../shared/json.js';
import { formatSse } from '../shared/sse.js';
import type { ChatChunk, ChatRequest, ChatResponse, ErrorPayload, IngressCodec, StreamEncoder } from '../types.js';
import { validateOpenAiRequest } from './validate.js';

/** Request fields that have a canonical slot; anything else travels in `extra`. */
const canonicalKeys = new Set([
  'model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'max_tokens', 'max_completion_tokens',
  'temperature', 'top_p', 'n', 'stop', 'stream', 'stream_options', 'response_format', 'seed', 'user', 'reasoning_effort',
]);

/** OpenAI's error `type` for a status, as its API uses them. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function encodeOpenAiError(error: ErrorPayload): string {
  return JSON.stringify({
    error: { message: error.message, type: openAiErrorType(error.status), param: error.param ?? null, code: error.code, ...error.details },
  });
}

export const openAiIngress: IngressCodec = {
  format: 'openai',
  streamContentType: 'text/event-stream; charset=utf-8',
  streamEndMarker: 'data: [DONE]\n\n',

  inspectRequest(body) {
    validateOpenAiRequest(body);
    const streamOptions = body.stream_options;
    return {
      route: body.model as string,
      stream: body.stream === true,
      wantsUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
    };
  },

  toCanonical(body) {
    const request: Record<string, unknown> = {};
    let extra: Record<string, unknown> | undefined;
    for (const [key, value] of Object.entries(body)) {
      if (value === undefined || value === null) continue;
      if (canonicalKeys.has(key)) request[key] = value;
      else (extra ??= {})[key] = value;
    }
    if (extra) request.extra = extra;
    return request as unknown as ChatRequest;
  },

  encodeResponse(response: ChatResponse) {
    return JSON.stringify(response);
  },

  createStreamEncoder({ wantsUsage }): StreamEncoder {
    return {
      encode(chunk: ChatChunk) {
        if (!wantsUsage && chunk.choices.length === 0) return '';
        if (chunk.promptUsage === undefined) return formatSse(JSON.stringify(chunk));
        const { promptUsage: _promptUsage, ...openAiChunk } = chunk;
        return formatSse(JSON.stringify(openAiChunk));
      },
      end: () => 'data: [DONE]\n\n',
      error: (error) => formatSse(encodeOpenAiError(error)),
    };
  },

  encodeError: encodeOpenAiError,
};
