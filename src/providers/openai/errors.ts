import { classifyStatus, DetourError, type DetourErrorCode, type ErrorKind } from '../../core/errors.js';
import { parseRetryAfter } from '../../core/retry-after.js';
import type { Target } from '../../core/settings.js';
import { readErrorBody, upstreamError } from '../shared/error-body.js';
import { isRecord, stringField } from '../shared/json.js';
import { targetSecrets } from '../shared/error-body.js';
import { redactSecrets } from '../shared/redact.js';

/** Classifies an OpenAI-compatible error answer; refines the status with the body's `code`. */
export function classifyOpenAiError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
  target: Target,
  now: number,
): DetourError {
  const read = readErrorBody(status, bodyText, target);
  const { error, message: upstreamMessage } = read;
  const upstreamCode = stringField(error, 'code');
  const upstreamType = stringField(error, 'type');

  let { kind, code }: { kind: ErrorKind; code: DetourErrorCode } = classifyStatus(status);
  if (status === 429 && (upstreamCode === 'insufficient_quota' || upstreamType === 'insufficient_quota')) {
    kind = 'failover';
    code = 'UPSTREAM_QUOTA_EXCEEDED';
  } else if (upstreamCode === 'context_length_exceeded' || /maximum context length/i.test(upstreamMessage)) {
    kind = 'failover';
    code = 'CONTEXT_LENGTH_EXCEEDED';
  } else if (upstreamCode === 'content_policy_violation') {
    kind = 'failover';
    code = 'CONTENT_POLICY';
  } else if (upstreamCode === 'invalid_api_key') {
    kind = 'failover';
    code = 'UPSTREAM_AUTH_FAILED';
  }

  return upstreamError(target, status, read, { kind, code, retryAfterMs: parseRetryAfter(headers, now), upstreamType, param: stringField(error, 'param') });
}

/** Classifies an `{"error": …}` payload that arrived inside a 200 stream. */
export function classifyOpenAiStreamError(payload: unknown, target: Target): DetourError {
  const error = isRecord(payload) && isRecord(payload.error) ? payload.error : {};
  const message = redactSecrets(stringField(error, 'message') ?? 'stream error', targetSecrets(target));
  const type = stringField(error, 'type');
  const fatal = type === 'invalid_request_error';
  return new DetourError({
    kind: fatal ? 'fatal' : 'retryable',
    code: fatal ? 'UPSTREAM_INVALID_REQUEST' : 'UPSTREAM_SERVER_ERROR',
    target: target.id,
    message: `${target.id} reported an error in its stream: ${message}`,
    upstreamType: type,
  });
}
