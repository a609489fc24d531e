import type { DetourErrorCode, ErrorKind } from './errors.js';

/**
 * What one attempt says about its target's health:
 * - `success`: the target answered;
 * - `failure`: the target is unwell (counts towards its breaker and weighted penalty);
 * - `neutral`: the attempt says nothing about the target (the client's own error, the client
 *   leaving, a request this model cannot take) and is not counted either way.
 */
export type TargetOutcome = 'success' | 'failure' | 'neutral';

/**
 * Failover codes that are about the request rather than the target: a prompt too long for this
 * model, or refused by its content policy, would fail the same on a perfectly healthy target,
 * so they must not open its circuit.
 */
const requestSpecificCodes: ReadonlySet<DetourErrorCode> = new Set(['CONTEXT_LENGTH_EXCEEDED', 'CONTENT_POLICY', 'UNSUPPORTED_FEATURE']);

/**
 * Classifies a finished attempt. Only retryable and failover errors count against a target,
 * never the client's own 400s; see `requestSpecificCodes` for the failover codes left out.
 *
 * @param error the attempt's classified error, or undefined when it succeeded.
 */
export function classifyOutcome(error: { kind: ErrorKind; code: DetourErrorCode } | undefined): TargetOutcome {
  if (error === undefined) return 'success';
  if (error.kind === 'fatal' || error.code === 'CLIENT_CLOSED' || error.code === 'CANCELLED') return 'neutral';
  if (requestSpecificCodes.has(error.code)) return 'neutral';
  return 'failure';
}
