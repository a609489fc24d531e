import type { ProviderAdapter } from '../types.js';
import { classifyAnthropicError } from './errors.js';
import { anthropicProbe, messagesRequest } from './http.js';
import { toAnthropicBody } from './request.js';
import { parseAnthropicResponse, readAnthropicUsage } from './response.js';
import { AnthropicStreamDecoder, inspectAnthropicEvent, isAnthropicToolCallEvent } from './stream.js';

/** The upstream face of the Anthropic Messages API (provider `type: anthropic`). */
export const anthropicAdapter: ProviderAdapter = {
  format: 'anthropic',
  buildRequest: (request, target, options) => messagesRequest({ ...toAnthropicBody(request, target, options) }, target),
  buildPassThroughRequest: (body, target, options) => messagesRequest(body, target, options.forward, 'messages', options.raw),
  parseResponse: parseAnthropicResponse,
  createStreamDecoder: (target) => new AnthropicStreamDecoder(target),
  inspectEvent: inspectAnthropicEvent,
  isToolCallEvent: isAnthropicToolCallEvent,
  readUsage: readAnthropicUsage,
  classifyError: classifyAnthropicError,
  buildProbe: anthropicProbe,
};

export { anthropicIngress } from './ingress.js';
