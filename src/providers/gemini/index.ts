import type { ProviderAdapter } from '../types.js';
import { classifyGeminiError } from './errors.js';
import { buildGeminiPassThroughRequest, buildGeminiRequest, canonicalToGeminiBody } from './request.js';
import { parseGeminiResponse } from './response.js';
import { GeminiStreamDecoder, inspectGeminiEvent, isGeminiToolCallEvent } from './stream.js';
import { geminiHeaders, geminiModelsUrl } from './url.js';
import { readGeminiUsage } from './usage.js';

/** Google's Generative Language API (`v1beta`), provider `type: gemini`. */
export const geminiAdapter: ProviderAdapter = {
  format: 'gemini',
  buildRequest: (request, target, options) => buildGeminiRequest(canonicalToGeminiBody(request, target), target, options),
  buildPassThroughRequest: buildGeminiPassThroughRequest,
  parseResponse: parseGeminiResponse,
  createStreamDecoder: (target) => new GeminiStreamDecoder(target),
  inspectEvent: inspectGeminiEvent,
  isToolCallEvent: isGeminiToolCallEvent,
  readUsage: readGeminiUsage,
  classifyError: classifyGeminiError,
  buildProbe: (target) => ({ url: geminiModelsUrl(target), method: 'GET', headers: geminiHeaders(target) }),
};

export { geminiIngress } from './ingress.js';
export { geminiStatusName } from './ingress-encode.js';
