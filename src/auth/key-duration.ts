const units: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A key lifetime or rotation overlap: `90d`, `24h`, `30m`, `2w` (or `0`). Undefined when it is not one. */
export function parseKeyDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(trimmed);
  if (!match) return undefined;
  const ms = Number(match[1]) * (units[match[2] as string] as number);
  return Number.isFinite(ms) && ms <= 10 * 365 * 86_400_000 ? Math.round(ms) : undefined;
}
