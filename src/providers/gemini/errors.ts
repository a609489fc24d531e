import { classifyStatus, DetourError, type DetourErrorCode, type ErrorKind } from '../../core/errors.js';
import { parseProtoDuration, parseRetryAfter } from '../../core/retry-after.js';
import type { Target } from '../../core/settings.js';
import { readErrorBody, upstreamError } from '../shared/error-body.js';
import { isRecord, stringField } from '../shared/json.js';
import { targetSecrets } from '../shared/error-body.js';
import { redactSecrets } from '../shared/redact.js';
import { errorInfoType, quotaFailureType, retryInfoType } from './schema.js';

interface Classification {
  kind: ErrorKind;
  code: DetourErrorCode;
  retryAfterMs: number | undefined;
}

/**
 * Classifies a Gemini error answer (`{"error": {code, message, status, details}}`). Gemini says
 * much of it in the body rather than the status: a bad key is a 400 with `API_KEY_INVALID`,
 * the wait of a 429 is a `RetryInfo` detail (there is no Retry-After header), and a 429 whose
 * quota is per day will not clear for hours.
 */
export function classifyGeminiError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
  target: Target,
  now: number,
): DetourError {
  const read = readErrorBody(status, bodyText, target);
  const found = classifyGeminiStatus(status, read.error, read.message);
  return upstreamError(target, status, read, {
    kind: found.kind,
    code: found.code,
    retryAfterMs: found.retryAfterMs ?? parseRetryAfter(headers, now),
    upstreamType: stringField(read.error, 'status'),
  });
}

/** Classifies an `{"error": …}` event inside a 200 stream, by the HTTP code it carries. */
export function classifyGeminiStreamError(payload: Record<string, unknown>, target: Target): DetourError {
  const error = isRecord(payload.error) ? payload.error : {};
  const status = typeof error.code === 'number' ? error.code : 500;
  const message = redactSecrets(stringField(error, 'message') ?? 'stream error', targetSecrets(target));
  const found = classifyGeminiStatus(status, error, message);
  return new DetourError({
    kind: found.kind,
    code: found.code,
    target: target.id,
    message: `${target.id} reported an error in its stream: ${message}`,
    retryAfterMs: found.retryAfterMs,
    upstreamType: stringField(error, 'status'),
  });
}

function classifyGeminiStatus(status: number, error: Record<string, unknown> | undefined, message: string): Classification {
  const details = Array.isArray(error?.details) ? error.details.filter(isRecord) : [];
  const { kind, code } = classifyStatus(status);
  if (status === 429) {
    if (quotaIds(details).some((quotaId) => quotaId.includes('PerDay'))) return failover('UPSTREAM_QUOTA_EXCEEDED');
    const retryInfo = details.find((detail) => detail['@type'] === retryInfoType);
    return { kind, code, retryAfterMs: parseProtoDuration(retryInfo?.retryDelay) };
  }
  if (details.some((detail) => detail['@type'] === errorInfoType && detail.reason === 'API_KEY_INVALID')) return failover('UPSTREAM_AUTH_FAILED');
  if (status === 400) {
    if (/input token count.*exceeds the maximum/i.test(message)) return failover('CONTEXT_LENGTH_EXCEEDED');
    // "User location is not supported", "billing required": this account cannot serve it, another may.
    if (stringField(error, 'status') === 'FAILED_PRECONDITION') return failover('UPSTREAM_QUOTA_EXCEEDED');
  }
  return { kind, code, retryAfterMs: undefined };
}

function failover(code: DetourErrorCode): Classification {
  return { kind: 'failover', code, retryAfterMs: undefined };
}

function quotaIds(details: readonly Record<string, unknown>[]): string[] {
  const ids: string[] = [];
  for (const detail of details) {
    if (detail['@type'] !== quotaFailureType || !Array.isArray(detail.violations)) continue;
    for (const violation of detail.violations) {
      const quotaId = stringField(violation, 'quotaId');
      if (quotaId !== undefined) ids.push(quotaId);
    }
  }
  return ids;
}
