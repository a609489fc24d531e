import { APICallError } from '@ai-sdk/provider';
import { GatewayError } from '../library/gateway-error.js';

/**
 * A Detour error answer as the AI SDK's `APICallError`. It is never marked retryable: Detour
 * has already retried and failed over within the route's deadline, and a second layer of
 * retries would only multiply the load on upstreams that are struggling. Anything else
 * (an abort, a programming error) passes through unchanged.
 */
export function toApiCallError(error: unknown, route: string, requestBody: unknown): unknown {
  if (!(error instanceof GatewayError)) return error;
  return new APICallError({
    message: error.message,
    url: `detour:${route}`,
    requestBodyValues: requestBody,
    statusCode: error.status,
    responseHeaders: { ...error.headers },
    responseBody: typeof error.body === 'string' ? error.body : JSON.stringify(error.body),
    isRetryable: false,
    data: error.body,
    cause: error,
  });
}
