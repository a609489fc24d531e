import { DetourError, type DetourErrorCode, type ErrorKind } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, stringField, tryParseJson } from './json.js';
import { redactJson, redactSecrets } from './redact.js';

/** An upstream's error answer, secrets removed, read the way all three formats nest it (`{"error": {...}}`). */
export interface UpstreamErrorBody {
  /** The whole body, parsed (undefined when it was not JSON). */
  body: unknown;
  /** The `error` object inside it, when there is one. */
  error: Record<string, unknown> | undefined;
  /** The upstream's message, or the start of its body, or the status. */
  message: string;
}

/** What of a target an upstream could echo back: its key and the headers sent with it. */
export function targetSecrets(target: Target): string[] {
  return [target.apiKey, ...Object.values(target.provider.headers)];
}

export function readErrorBody(status: number, bodyText: string, target: Target): UpstreamErrorBody {
  const secrets = targetSecrets(target);
  // Parsed first, redacted after: an escaped secret (`\u0073k-…`) is plain text only once parsed.
  const parsed = tryParseJson(bodyText);
  const body = parsed === undefined ? undefined : redactJson(parsed, secrets);
  const safeText = body === undefined ? redactSecrets(bodyText, secrets) : JSON.stringify(body);
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  return { body, error, message: stringField(error, 'message') ?? (safeText.slice(0, 300) || `HTTP ${status}`) };
}

/** The classified error for an upstream's error answer, as every adapter reports it. */
export function upstreamError(
  target: Target,
  status: number,
  read: UpstreamErrorBody,
  found: { kind: ErrorKind; code: DetourErrorCode; retryAfterMs: number | undefined; upstreamType: string | undefined; param?: string | undefined },
): DetourError {
  return new DetourError({ ...found, status, target: target.id, message: `${target.id} answered ${status}: ${read.message}`, upstreamBody: read.body });
}
