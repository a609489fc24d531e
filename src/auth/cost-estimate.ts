import type { TokenReservation } from '../core/token-reservation.js';
import type { ModelCatalog } from '../core/model-catalog.js';

export { defaultReservedOutputTokens, reserveTokens, type TokenReservation } from '../core/token-reservation.js';

/** The most those tokens can cost on any of the models a route may call; 0 when none is priced. */
export function worstCaseUsd(tokens: TokenReservation, models: readonly string[], catalog: ModelCatalog): number {
  let worst = 0;
  for (const model of models) {
    const usd = catalog.cost(model, { promptTokens: tokens.input, completionTokens: tokens.output });
    if (usd !== undefined && usd > worst) worst = usd;
  }
  return worst;
}
