import type { KeyPeriod } from './virtual-key.js';

const dayMs = 86_400_000;

/** The calendar period (UTC) holding `now`: days from midnight, weeks from Monday, months from the 1st. */
export function periodBounds(period: KeyPeriod, now: number): { start: number; end: number } {
  const date = new Date(now);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (period === 'day') return { start: midnight, end: midnight + dayMs };
  if (period === 'week') {
    const sinceMonday = (date.getUTCDay() + 6) % 7;
    const start = midnight - sinceMonday * dayMs;
    return { start, end: start + 7 * dayMs };
  }
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  return { start, end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) };
}

/** The longest a period lasts, which a spend counter's window must cover. */
export const longestPeriodMs: Readonly<Record<KeyPeriod, number>> = { day: dayMs, week: 7 * dayMs, month: 31 * dayMs };

/** Budgets are counted in billionths of a dollar: whole numbers add exactly, in memory and in Redis. */
export const nanoUsdPerUsd = 1_000_000_000;

export function toNanoUsd(usd: number): number {
  return Math.ceil(usd * nanoUsdPerUsd);
}

export function formatUsd(usd: number): string {
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(3)}`;
}

export const periodAdjective: Readonly<Record<KeyPeriod, string>> = { day: 'daily', week: 'weekly', month: 'monthly' };
