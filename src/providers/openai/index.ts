import type { ProviderAdapter } from '../types.js';
import { classifyOpenAiError } from './errors.js';
import { azureOpenAiDialect, buildOpenAiRequest, canonicalToOpenAiBody, openAiDialect, type OpenAiDialect } from './request.js';
import { parseOpenAiResponse, readOpenAiUsage } from './response.js';
import { inspectOpenAiEvent, isOpenAiToolCallEvent, OpenAiStreamDecoder } from './stream.js';

function createOpenAiAdapter(dialect: OpenAiDialect): ProviderAdapter {
  return {
    format: 'openai',
    buildRequest: (request, target, options) => buildOpenAiRequest(dialect, canonicalToOpenAiBody(request, target), target, options),
    buildPassThroughRequest: (body, target, options) => buildOpenAiRequest(dialect, body, target, options),
    parseResponse: parseOpenAiResponse,
    createStreamDecoder: (target) => new OpenAiStreamDecoder(target),
    inspectEvent: inspectOpenAiEvent,
    isToolCallEvent: isOpenAiToolCallEvent,
    readUsage: readOpenAiUsage,
    classifyError: classifyOpenAiError,
    buildProbe: (target) => ({ url: dialect.modelsUrl(target), method: 'GET', headers: { ...target.provider.headers, ...dialect.authHeaders(target) } }),
  };
}

export const openAiAdapter = createOpenAiAdapter(openAiDialect);
export const azureOpenAiAdapter = createOpenAiAdapter(azureOpenAiDialect);
export { openAiIngress } from './ingress.js';
