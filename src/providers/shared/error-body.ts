import { DetourError, type DetourErrorCode, type ErrorKind } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord, stringField, tryParseJson } from './json.js';
import { redactSecrets } from './redact.js';

/** An upstream's error answer, secrets removed, read the way all three formats nest it (`{"error": {...}}`). */
export interface UpstreamErrorBody {
  /** The whole body, parsed (undefined when it was not JSON). */
  body: unknown;
  /** The `error` object inside it, when there is one. */
  error: Record<string, unknown> | undefined;
  /** The upstream's message, or the start of its body, or the status. */
  message: string;
}

export function readErrorBody(status: number, bodyText: string, target: Target): UpstreamErrorBody {
  const safeText = redactSecrets(bodyText, [target.apiKey]);
  const body = tryParseJson(safeText);
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
