import { describe, expect, it } from 'vitest';
import { CostCalculator } from '../../src/observability/cost.js';
import { attempt, failedAttempt } from './fixtures.js';

describe('cost', () => {
  it('prices a successful answer from the built-in table, cached input at its own price', () => {
    const cost = new CostCalculator().requestCost({
      model: 'gpt-4o-mini-2024-07-18',
      tokens: { input: 1_000_000, output: 1_000_000, cachedInput: 500_000 },
      isSuccess: true,
      attempts: [attempt('primary/gpt-4o-mini')],
    });
    // 0.5 M × $0.15 + 0.5 M × $0.075 + 1 M × $0.60
    expect(cost.successUsd).toBeCloseTo(0.7125);
    expect(cost).toMatchObject({ failedUsd: 0, hedgeUsd: 0, mirrorUsd: 0, isPriced: true });
  });

  it('takes the config over the built-in price, and adds models it lacks', () => {
    const calculator = new CostCalculator({ 'gpt-4o-mini': { inputPerMillion: 1, outputPerMillion: 2 }, 'my-local-llm': { inputPerMillion: 0.1, outputPerMillion: 0.1 } });
    expect(calculator.usageCost('gpt-4o-mini', { input: 1_000_000, output: 1_000_000, cachedInput: 0 })).toBeCloseTo(3);
    expect(calculator.usageCost('my-local-llm', { input: 1_000_000, output: 0, cachedInput: 0 })).toBeCloseTo(0.1);
  });

  it('says when a model has no price rather than calling it free', () => {
    const cost = new CostCalculator().requestCost({ model: 'mystery-model', tokens: { input: 10, output: 10, cachedInput: 0 }, isSuccess: true, attempts: [] });
    expect(cost.successUsd).toBeUndefined();
    expect(cost.isPriced).toBe(false);
  });

  it('books what a failed request consumed as failed, and hedges apart when the engine reports their usage', () => {
    const hedge = { ...attempt('backup/gpt-4o-mini', { role: 'hedge' }), usage: { prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 } };
    const cost = new CostCalculator().requestCost({
      model: 'gpt-4o-mini',
      tokens: { input: 1_000_000, output: 0, cachedInput: 0 },
      isSuccess: false,
      attempts: [failedAttempt('primary/gpt-4o-mini'), hedge],
    });
    expect(cost.successUsd).toBeUndefined();
    expect(cost.failedUsd).toBeCloseTo(0.15);
    expect(cost.hedgeUsd).toBeCloseTo(0.15);
  });
});
