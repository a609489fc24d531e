import { classifyStatus, DetourError, type DetourErrorCode, type ErrorKind } from '../../core/errors.js';
import { parseRetryAfter } from '../../core/retry-after.js';
import type { Target } from '../../core/settings.js';
import { readErrorBody, upstreamError } from '../shared/error-body.js';
import { isRecord, stringField } from '../shared/json.js';
import { targetSecrets } from '../shared/error-body.js';
import { redactSecrets } from '../shared/redact.js';

interface ErrorClass {
  kind: ErrorKind;
  code: DetourErrorCode;
}

/**
 * Anthropic's `error.type` values and what each means for routing. Used for in-stream errors,
 * which carry no HTTP status, and to refine statuses Anthropic uses loosely.
 */
const errorTypeClasses: Readonly<Record<string, ErrorClass>> = {
  overloaded_error: { kind: 'retryable', code: 'UPSTREAM_OVERLOADED' },
  api_error: { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' },
  timeout_error: { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' },
  rate_limit_error: { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED' },
  authentication_error: { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' },
  permission_error: { kind: 'failover', code: 'UPSTREAM_PERMISSION_DENIED' },
  not_found_error: { kind: 'failover', code: 'UPSTREAM_MODEL_NOT_FOUND' },
  billing_error: { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' },
  invalid_request_error: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' },
  request_too_large: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' },
};

/** "prompt is too long: 208656 tokens > 200000 maximum", and the max_tokens variant of it. */
const contextLengthMessage = /prompt is too long|exceeds? (?:the )?context (?:limit|window)/i;
/** A spent balance or spend limit: another key or provider may still have credit. */
const quotaMessage = /credit balance is too low|spend limit|usage limit/i;

/** Classifies an Anthropic error answer: the status first, refined by the body's type and message. */
export function classifyAnthropicError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
  target: Target,
  now: number,
): DetourError {
  const read = readErrorBody(status, bodyText, target);
  const { error, message: upstreamMessage } = read;
  const upstreamType = stringField(error, 'type');
  const errorCode = isRecord(error) ? stringField(error.details, 'error_code') : undefined;

  let { kind, code }: ErrorClass = classifyStatus(status);
  if (upstreamType === 'overloaded_error') {
    ({ kind, code } = errorTypeClasses.overloaded_error as ErrorClass);
  } else if (status === 402 || upstreamType === 'billing_error' || (status < 500 && (quotaMessage.test(upstreamMessage) || errorCode?.includes('spend_limit')))) {
    kind = 'failover';
    code = 'UPSTREAM_QUOTA_EXCEEDED';
  } else if (status === 400 && contextLengthMessage.test(upstreamMessage)) {
    kind = 'failover';
    code = 'CONTEXT_LENGTH_EXCEEDED';
  }

  return upstreamError(target, status, read, { kind, code, retryAfterMs: parseRetryAfter(headers, now), upstreamType });
}

/** Classifies an `event: error` that arrived inside a 200 stream (`{"type":"error","error":{…}}`). */
export function classifyAnthropicStreamError(payload: unknown, target: Target): DetourError {
  const error = isRecord(payload) && isRecord(payload.error) ? payload.error : {};
  const type = stringField(error, 'type');
  const message = redactSecrets(stringField(error, 'message') ?? 'stream error', targetSecrets(target));
  const known = type === undefined ? undefined : errorTypeClasses[type];
  const { kind, code } = known ?? { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' };
  return new DetourError({ kind, code, target: target.id, message: `${target.id} reported an error in its stream: ${message}`, upstreamType: type });
}

/**
 * A request this Anthropic target cannot express. `failover`: the engine skips the target without
 * calling it, and answers 400 naming the features when no target could take the request.
 */
export function unsupportedFeatures(target: Target, features: readonly string[]): DetourError {
  return new DetourError({
    kind: 'failover',
    code: 'UNSUPPORTED_FEATURE',
    status: 400,
    target: target.id,
    message: `${target.id} (Anthropic Messages API) cannot express this request: ${features.join('; ')}`,
  });
}
