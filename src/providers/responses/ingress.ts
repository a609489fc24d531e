import { encodeOpenAiError } from '../openai/ingress.js';
import type { IngressCodec } from '../types.js';
import { customToolNames, responsesToCanonical, validateResponsesRequest } from './ingress-request.js';
import { encodeResponsesBody, newItemId, type ResponseContext } from './ingress-response.js';
import { ResponsesStreamEncoder } from './ingress-stream.js';

/**
 * The client-facing face of the OpenAI Responses API. A Response object repeats its request's
 * settings and carries its own id, so each request gets its own codec (`responsesCodec`); the
 * shared `responsesIngress` serves what needs no request (errors, validation).
 */
export function responsesCodec(context: ResponseContext): IngressCodec {
  return {
    format: 'responses',
    streamContentType: 'text/event-stream; charset=utf-8',
    // A Responses stream ends with its `response.completed` event; there is no marker after it.
    streamEndMarker: '',
    inspectRequest(body) {
      validateResponsesRequest(body);
      // The Responses API always reports usage.
      return { route: body.model as string, stream: body.stream === true, wantsUsage: true };
    },
    toCanonical: responsesToCanonical,
    encodeResponse: (response) => JSON.stringify(encodeResponsesBody(response, context)),
    createStreamEncoder: () => new ResponsesStreamEncoder(context),
    encodeError: encodeOpenAiError,
  };
}

/** A fresh context for a request: a new response id, now, the request's settings. */
export function responseContextFor(request: Record<string, unknown>, nowMs: number = Date.now()): ResponseContext {
  return { id: newItemId('resp'), createdAt: Math.floor(nowMs / 1000), request, customTools: customToolNames(request.tools) };
}

export const responsesIngress: IngressCodec = responsesCodec(responseContextFor({}));
