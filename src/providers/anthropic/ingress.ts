import type { IngressCodec } from '../types.js';
import { encodeAnthropicError } from './encode-error.js';
import { toAnthropicMessage } from './encode-response.js';
import { AnthropicStreamEncoder, messageStopEvent } from './stream-encoder.js';
import { anthropicDroppedFeatures, anthropicToCanonical } from './to-canonical.js';
import { validateAnthropicRequest } from './validate.js';

/** The Anthropic Messages API as Detour serves it to clients (`POST /v1/messages`). */
export const anthropicIngress: IngressCodec = {
  format: 'anthropic',
  streamContentType: 'text/event-stream; charset=utf-8',
  streamEndMarker: messageStopEvent,

  inspectRequest(body) {
    validateAnthropicRequest(body);
    // An Anthropic stream always carries usage (message_start, message_delta): there is no opt-in.
    return { route: body.model as string, stream: body.stream === true, wantsUsage: true };
  },

  toCanonical: anthropicToCanonical,
  forwardedHeaders: ['anthropic-beta', 'anthropic-version'],
  droppedFeatures: anthropicDroppedFeatures,
  encodeResponse: (response) => JSON.stringify(toAnthropicMessage(response)),
  createStreamEncoder: () => new AnthropicStreamEncoder(),
  encodeError: encodeAnthropicError,
};
