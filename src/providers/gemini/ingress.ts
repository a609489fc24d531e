import type { IngressCodec } from '../types.js';
import { encodeGeminiError, encodeGeminiResponse } from './ingress-encode.js';
import { geminiToCanonical, inspectGeminiRequest } from './ingress-request.js';
import { GeminiStreamEncoder } from './ingress-stream.js';

/**
 * The client-facing face of the Gemini format: the simulator speaks it today; Detour does not
 * serve it as an ingress yet.
 */
export const geminiIngress: IngressCodec = {
  format: 'gemini',
  streamContentType: 'text/event-stream',
  // A Gemini stream ends when the connection closes: there is no marker to add.
  streamEndMarker: '',
  inspectRequest: inspectGeminiRequest,
  toCanonical: geminiToCanonical,
  encodeResponse: encodeGeminiResponse,
  createStreamEncoder: () => new GeminiStreamEncoder(),
  encodeError: encodeGeminiError,
};
