import type { ErrorPayload } from '../types.js';

/** Anthropic's `error.type` values (docs/wire-formats.md §2.4). */
const anthropicErrorTypes: ReadonlySet<string> = new Set([
  'invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error',
  'request_too_large', 'rate_limit_error', 'api_error', 'timeout_error', 'overloaded_error',
]);

/**
 * The `error.type` Anthropic uses for a status. Detour answers 503 when every target failed:
 * for an Anthropic client that is `overloaded_error` (its SDK retries it, as it does 529).
 */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/**
 * `{"type":"error","error":{"type","message","details"}}`. Detour's own code goes in
 * `error.details.error_code`, where the Anthropic SDK exposes it as `error.errorCode`, next to the
 * parameter at fault and the attempts made. A payload whose code already is an Anthropic error
 * type (the simulator's upstream-style errors) uses it as the type.
 */
export function encodeAnthropicError(error: ErrorPayload): string {
  const isNativeType = anthropicErrorTypes.has(error.code);
  const details: Record<string, unknown> = {
    ...(isNativeType ? {} : { error_code: error.code }),
    ...(error.param !== undefined ? { param: error.param } : {}),
    ...error.details,
  };
  const body = {
    type: 'error',
    error: {
      type: isNativeType ? error.code : anthropicErrorType(error.status),
      message: error.message,
      ...(Object.keys(details).length > 0 ? { details } : {}),
    },
  };
  return JSON.stringify(body);
}
