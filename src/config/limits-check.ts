import type { ConfigProblem } from './interpolate.js';

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A target's own `limits` as one comparable text: keys in order, absent as `(none)`. */
function limitsText(target: unknown): string {
  const limits = asRecord(target).limits;
  if (limits === undefined) return '(none)';
  const record = asRecord(limits);
  return JSON.stringify(Object.fromEntries(Object.keys(record).sort().map((name) => [name, record[name]])));
}

/**
 * One provider + model is one target with one set of rate-limit counters, whatever route lists
 * it, so its own `limits` must be the same in every route: the engine declares each target once,
 * and a second route's different limits would otherwise be dropped without a word.
 */
export function limitsCrossCheck(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, { limits: string; where: string }>();
  for (const [routeName, route] of Object.entries(asRecord(asRecord(raw).models))) {
    const targets = asRecord(route).targets;
    if (!Array.isArray(targets)) continue;
    targets.forEach((target: unknown, index) => {
      const id = `${String(asRecord(target).provider)}/${String(asRecord(target).model)}`;
      const limits = limitsText(target);
      const earlier = seen.get(id);
      if (!earlier) seen.set(id, { limits, where: `models.${routeName}.targets[${index}]` });
      else if (earlier.limits !== limits) {
        problems.push({
          path: ['models', routeName, 'targets', index, 'limits'],
          message: `${id} has limits ${limits} here but ${earlier.limits} at ${earlier.where}: one provider and model is one target, with one set of limits (set them on the provider, or the same on every route that lists it)`,
        });
      }
    });
  }
  return problems;
}
