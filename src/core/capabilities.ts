import type { ModelCapabilities, ModelCatalog } from './model-catalog.js';

/** What a request needs of a target. */
export interface RequestNeeds {
  /** The request carries images. */
  vision: boolean;
  /** The request declares tools. */
  tools: boolean;
  /** The request asks for a JSON response (`json_object` or `json_schema`). */
  json: boolean;
  /** Estimated input tokens (see `estimateInputTokens`). */
  inputTokens: number;
}

export type Capability = 'vision' | 'tools' | 'json' | 'context_window';

/**
 * The capabilities of a model: what the target declares, over what the catalog knows.
 * Undefined when neither says anything: such a target is let through and the upstream decides.
 */
export function resolveCapabilities(
  model: string,
  declared: Partial<ModelCapabilities> | undefined,
  catalog: ModelCatalog,
): ModelCapabilities | undefined {
  const known = catalog.lookup(model)?.capabilities;
  if (!known && !declared) return undefined;
  if (!known) {
    // Declared in part only: what is not declared is assumed present, as for an unknown model.
    return { vision: true, tools: true, json: true, contextWindow: Number.POSITIVE_INFINITY, ...declared };
  }
  return declared ? { ...known, ...declared } : known;
}

/** The capabilities a target lacks for a request; empty when it can serve it. */
export function missingCapabilities(needs: RequestNeeds, capabilities: ModelCapabilities | undefined): Capability[] {
  if (!capabilities) return [];
  const missing: Capability[] = [];
  if (needs.vision && !capabilities.vision) missing.push('vision');
  if (needs.tools && !capabilities.tools) missing.push('tools');
  if (needs.json && !capabilities.json) missing.push('json');
  if (needs.inputTokens > capabilities.contextWindow) missing.push('context_window');
  return missing;
}

export interface CapabilityFilterResult<T> {
  eligible: T[];
  /** Left out, with what each one lacked: for the event log, and for a clear 400 when nothing is left. */
  skipped: Array<{ candidate: T; missing: Capability[] }>;
}

/** Keeps the candidates that can serve the request, in their order. */
export function filterByCapabilities<T>(
  candidates: readonly T[],
  needs: RequestNeeds,
  capabilitiesOf: (candidate: T) => ModelCapabilities | undefined,
): CapabilityFilterResult<T> {
  const result: CapabilityFilterResult<T> = { eligible: [], skipped: [] };
  for (const candidate of candidates) {
    const missing = missingCapabilities(needs, capabilitiesOf(candidate));
    if (missing.length === 0) result.eligible.push(candidate);
    else result.skipped.push({ candidate, missing });
  }
  return result;
}
