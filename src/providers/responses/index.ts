import { classifyOpenAiError } from '../openai/errors.js';
import type { ProviderAdapter } from '../types.js';
import { azureResponsesDialect, buildResponsesRequest, canonicalToResponsesBody, openAiResponsesDialect, type ResponsesDialect } from './request.js';
import { parseResponsesResponse, readResponsesUsage } from './response.js';
import { inspectResponsesEvent, isResponsesToolCallEvent, ResponsesStreamDecoder } from './stream.js';

/** An OpenAI or Azure OpenAI account that speaks the Responses API (`api: responses`). */
function createResponsesAdapter(dialect: ResponsesDialect): ProviderAdapter {
  return {
    format: 'responses',
    buildRequest: (request, target, options) => buildResponsesRequest(dialect, canonicalToResponsesBody(request, target), target, options),
    buildPassThroughRequest: (body, target, options) => buildResponsesRequest(dialect, body, target, options),
    parseResponse: parseResponsesResponse,
    createStreamDecoder: (target) => new ResponsesStreamDecoder(target),
    inspectEvent: inspectResponsesEvent,
    isToolCallEvent: isResponsesToolCallEvent,
    readUsage: readResponsesUsage,
    classifyError: classifyOpenAiError,
    buildProbe: (target) => ({ url: dialect.modelsUrl(target), method: 'GET', headers: { ...target.provider.headers, ...dialect.authHeaders(target) } }),
  };
}

export const openAiResponsesAdapter = createResponsesAdapter(openAiResponsesDialect);
export const azureResponsesAdapter = createResponsesAdapter(azureResponsesDialect);
export { responsesCodec, responseContextFor, responsesIngress } from './ingress.js';
export { responsesEvent } from './ingress-stream.js';
export type { ResponseContext } from './ingress-response.js';
