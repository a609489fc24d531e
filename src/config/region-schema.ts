import { z } from 'zod';
import { maxRegionNameLength, regionNamePattern } from '../core/regions.js';

/** A region name (`us-east`, `eu-west-1`): bounded, so that it is safe as a header value and a metric label. */
export const regionNameSchema = z
  .string()
  .max(maxRegionNameLength, `a region name has at most ${maxRegionNameLength} characters`)
  .regex(regionNamePattern, 'a region name is lower-case letters, digits and dashes (e.g. us-east, eu-west-1)');

/** `regions:` on a route: the only regions its requests may reach (data residency). */
export const routeRegionsSchema = z
  .array(regionNameSchema)
  .min(1, 'list at least one region, or leave regions out for every region')
  .max(64, 'at most 64 regions')
  .refine((regions) => new Set(regions).size === regions.length, { message: 'a region is listed twice' });

/** Where the config's regions are checked against each other (the schema alone cannot). */
export interface RegionProblem {
  path: (string | number)[];
  message: string;
}

type Raw = Record<string, unknown>;

function asRecord(value: unknown): Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Raw) : {};
}

function regionOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Regions across the config: a restricted route needs a target in its regions (its other
 * targets are left out, and said so only by `detour check`'s error when none is left), its
 * mirror and degraded route must stay inside them, and one provider + model (one target, one
 * set of breakers and statistics) has one region whatever route lists it.
 */
export function regionCrossCheck(raw: unknown): RegionProblem[] {
  const problems: RegionProblem[] = [];
  const providers = asRecord(asRecord(raw).providers);
  const routes = asRecord(asRecord(raw).models);
  const regionAt = (target: unknown): string | undefined => regionOf(asRecord(target).region) ?? regionOf(asRecord(providers[String(asRecord(target).provider)]).region);
  const seen = new Map<string, { region: string | undefined; where: string }>();
  for (const [routeName, route] of Object.entries(routes)) {
    const targets = Array.isArray(asRecord(route).targets) ? (asRecord(route).targets as unknown[]) : [];
    targets.forEach((target, index) => {
      const id = `${String(asRecord(target).provider)}/${String(asRecord(target).model)}`;
      const region = regionAt(target);
      const earlier = seen.get(id);
      if (!earlier) seen.set(id, { region, where: `models.${routeName}.targets[${index}]` });
      else if (earlier.region !== region) {
        problems.push({ path: ['models', routeName, 'targets', index, 'region'], message: `${id} is in region ${region ?? '(none)'} here but ${earlier.region ?? '(none)'} at ${earlier.where}: one provider and model is one target, in one region` });
      }
    });
  }
  for (const [routeName, route] of Object.entries(routes)) {
    const allowed = asRecord(route).regions;
    if (!Array.isArray(allowed) || allowed.length === 0) continue;
    const targets = Array.isArray(asRecord(route).targets) ? (asRecord(route).targets as unknown[]) : [];
    const inside = targets.filter((target) => allowed.includes(regionAt(target)));
    if (targets.length > 0 && inside.length === 0) {
      const found = [...new Set(targets.map((target) => regionAt(target) ?? '(none)'))].join(', ');
      problems.push({ path: ['models', routeName, 'regions'], message: `no target of this route is in ${allowed.join(', ')} (its targets are in ${found}): it could never answer` });
    }
    const mirror = asRecord(asRecord(route).mirror);
    if (typeof mirror.provider === 'string' && !allowed.includes(regionOf(asRecord(providers[mirror.provider]).region))) {
      problems.push({ path: ['models', routeName, 'mirror', 'provider'], message: `the mirror's provider "${mirror.provider}" is not in ${allowed.join(', ')}: mirroring would send this route's requests out of its regions` });
    }
    const degradeTo = asRecord(route).degrade_to;
    if (typeof degradeTo === 'string' && degradeTo in routes) {
      const fallbackTargets = Array.isArray(asRecord(routes[degradeTo]).targets) ? (asRecord(routes[degradeTo]).targets as unknown[]) : [];
      const outside = fallbackTargets.filter((target) => !allowed.includes(regionAt(target)));
      if (outside.length > 0) {
        problems.push({ path: ['models', routeName, 'degrade_to'], message: `route "${degradeTo}" has targets outside ${allowed.join(', ')}: degrading would send this route's requests out of its regions` });
      }
    }
  }
  return problems;
}

/** `server.region` from `DETOUR_REGION` when set: one image deployed to several regions names its own there. */
export function withRegionFromEnv(config: unknown, region: string | undefined): unknown {
  if (region === undefined || region === '') return config;
  const record = asRecord(config);
  return { ...record, server: { ...asRecord(record.server), region } };
}
