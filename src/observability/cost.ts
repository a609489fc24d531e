import type { AttemptRecord, Usage } from '../core/events.js';
import { ModelCatalog, type ModelPrice } from '../core/model-catalog.js';
import type { RequestCost, TokenCounts } from './outcome.js';

export function tokenCounts(usage: Usage | undefined): TokenCounts | undefined {
  if (!usage) return undefined;
  return {
    input: usage.prompt_tokens,
    output: usage.completion_tokens,
    cachedInput: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

function isUsage(value: unknown): value is Usage {
  if (typeof value !== 'object' || value === null) return false;
  const { prompt_tokens: input, completion_tokens: output } = value as Record<string, unknown>;
  return typeof input === 'number' && typeof output === 'number';
}

/**
 * Usage of a hedged, mirrored or failed call. The engine does not report it per attempt yet;
 * when it does (`usage` on the attempt record), those calls are priced without a change here.
 */
function attemptUsage(attempt: AttemptRecord): Usage | undefined {
  const candidate = (attempt as { usage?: unknown }).usage;
  return isUsage(candidate) ? candidate : undefined;
}

/** Turns usage into USD with the built-in price table overlaid with the config's prices. */
export class CostCalculator {
  private readonly catalog: ModelCatalog;

  constructor(prices: Readonly<Record<string, Partial<ModelPrice>>> = {}) {
    const overrides = Object.fromEntries(Object.entries(prices).map(([model, price]) => [model, { price }]));
    this.catalog = new ModelCatalog(overrides);
  }

  /** USD for one call, or undefined when the model's price is unknown. */
  usageCost(model: string, tokens: TokenCounts): number | undefined {
    return this.catalog.cost(model, { promptTokens: tokens.input, completionTokens: tokens.output, cachedTokens: tokens.cachedInput });
  }

  /**
   * The cost of one request: the served answer's usage (as success or, for a request that failed
   * after tokens were spent, as failed), plus every other call that reported usage.
   */
  requestCost(input: { model: string | undefined; tokens: TokenCounts | undefined; isSuccess: boolean; attempts: readonly AttemptRecord[] }): RequestCost {
    const cost: RequestCost = { successUsd: input.isSuccess ? 0 : undefined, failedUsd: 0, hedgeUsd: 0, mirrorUsd: 0, isPriced: true };
    if (input.tokens && input.model !== undefined) {
      const usd = this.usageCost(input.model, input.tokens);
      if (usd === undefined) cost.isPriced = false;
      if (input.isSuccess) cost.successUsd = usd;
      else cost.failedUsd += usd ?? 0;
    }
    for (const attempt of input.attempts) {
      // A plain successful attempt is the served one, already priced from the request's usage.
      if (attempt.role === undefined && attempt.code === undefined) continue;
      const tokens = tokenCounts(attemptUsage(attempt));
      if (!tokens) continue;
      const usd = this.usageCost(attempt.model, tokens);
      if (usd === undefined) {
        cost.isPriced = false;
        continue;
      }
      if (attempt.role === 'hedge') cost.hedgeUsd += usd;
      else if (attempt.role === 'mirror') cost.mirrorUsd += usd;
      else cost.failedUsd += usd;
    }
    return cost;
  }
}
