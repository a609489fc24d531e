import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { interpolateEnv, type ConfigProblem } from './interpolate.js';
import { limitsCrossCheck } from './limits-check.js';
import { regionCrossCheck, withRegionFromEnv } from './region-schema.js';
import { configSchema, type DetourConfig } from './schema.js';
import { checkRouteKinds } from './embeddings-check.js';

export interface LoadOptions {
  /** Provider types the registry knows (`openai`, `anthropic`, …). */
  providerTypes: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** Shown in messages (`detour.yaml:12`). */
  fileName?: string;
}

/** Thrown with every problem of a config at once, each on its own line with its path. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid config:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfigFile(path: string, options: LoadOptions): DetourConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read ${path}: ${(error as Error).message}`]);
  }
  return parseConfigText(text, { ...options, fileName: options.fileName ?? path });
}

/** Parses YAML text into a validated, frozen config; throws ConfigError listing every problem. */
export function parseConfigText(text: string, options: LoadOptions): DetourConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length > 0) {
    // The first few syntax errors are the useful ones; the rest usually follow from them.
    throw new ConfigError(
      document.errors.slice(0, 3).map((error) => {
        const line = error.linePos?.[0]?.line;
        return `${options.fileName ?? 'config'}${line === undefined ? '' : `:${line}`}: YAML syntax: ${error.message.split('\n')[0]}`;
      }),
    );
  }
  const locate = (path: (string | number)[]): string => {
    const node = document.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const offset = node?.range?.[0];
    if (offset === undefined || !options.fileName) return '';
    return ` (${options.fileName}:${lineCounter.linePos(offset).line})`;
  };
  return validateConfig(document.toJS(), options, locate);
}

/** Validates an already parsed config object (YAML or a library caller's object). */
export function validateConfig(raw: unknown, options: LoadOptions, locate: (path: (string | number)[]) => string = () => ''): DetourConfig {
  const problems: ConfigProblem[] = [];
  const env = options.env ?? process.env;
  const interpolated = withRegionFromEnv(withAuthSecretFromEnv(interpolateEnv(raw ?? {}, env, problems), env.DETOUR_AUTH_SECRET), env.DETOUR_REGION);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) problems.push(...parsed.error.issues.map(fromZodIssue));
  // Cross-references are checked even when the schema failed, so that one run shows every problem.
  problems.push(...crossCheck(interpolated, options.providerTypes));
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `${formatPath(problem.path)}: ${problem.message}${locate(problem.path)}`));
  return deepFreeze(parsed.data as DetourConfig);
}

/** Checks what a schema alone cannot: names that refer to each other. Reads the raw object defensively. */
function crossCheck(raw: unknown, providerTypes: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const providers = asRecord(asRecord(raw).providers);
  const providerNames = Object.keys(providers);
  for (const [name, provider] of Object.entries(providers)) {
    const type = asRecord(provider).type;
    if (typeof type === 'string' && !providerTypes.includes(type)) {
      problems.push({ path: ['providers', name, 'type'], message: `unknown provider type "${type}" (known: ${providerTypes.join(', ')})` });
    }
    if (name.includes('/')) problems.push({ path: ['providers', name], message: 'a provider name cannot contain "/"' });
  }
  const routeNames = Object.keys(asRecord(asRecord(raw).models));
  for (const [routeName, route] of Object.entries(asRecord(asRecord(raw).models))) {
    const degradeTo = asRecord(route).degrade_to;
    if (typeof degradeTo === 'string' && (!routeNames.includes(degradeTo) || degradeTo === routeName)) {
      problems.push({ path: ['models', routeName, 'degrade_to'], message: degradeTo === routeName ? 'a route cannot degrade to itself' : `unknown route "${degradeTo}" (known: ${routeNames.join(', ')})` });
    }
    const mirrorProvider = asRecord(asRecord(route).mirror).provider;
    if (typeof mirrorProvider === 'string' && !providerNames.includes(mirrorProvider)) {
      problems.push({ path: ['models', routeName, 'mirror', 'provider'], message: `unknown provider "${mirrorProvider}" (known: ${providerNames.join(', ') || 'none'})` });
    }
    const targets = asRecord(route).targets;
    if (!Array.isArray(targets)) continue;
    targets.forEach((target: unknown, index) => {
      const provider = asRecord(target).provider;
      if (typeof provider === 'string' && !providerNames.includes(provider)) {
        problems.push({
          path: ['models', routeName, 'targets', index, 'provider'],
          message: `unknown provider "${provider}" (known: ${providerNames.join(', ') || 'none'})`,
        });
      }
    });
  }
  problems.push(...checkRouteKinds(asRecord(asRecord(raw).models), providers));
  problems.push(...crossCheckAuth(raw, providers, routeNames));
  problems.push(...regionCrossCheck(raw));
  problems.push(...limitsCrossCheck(raw));
  return problems;
}

/** `auth.secret` defaults to `DETOUR_AUTH_SECRET`, so that the secret need not be written in the file. */
function withAuthSecretFromEnv(config: unknown, secret: string | undefined): unknown {
  if (secret === undefined || secret === '') return config;
  const record = asRecord(config);
  const auth = asRecord(record.auth);
  if (auth.secret !== undefined) return config;
  return { ...record, auth: { ...auth, secret } };
}

/** Client keys name routes and upstream keys that exist, once each. */
function crossCheckAuth(raw: unknown, providers: Record<string, unknown>, routeNames: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const keys = asRecord(asRecord(raw).auth).keys;
  if (!Array.isArray(keys)) return problems;
  const seen = new Set<string>();
  keys.forEach((entry: unknown, index) => {
    const key = asRecord(entry);
    if (typeof key.name === 'string') {
      if (seen.has(key.name)) problems.push({ path: ['auth', 'keys', index, 'name'], message: `another key is already named "${key.name}"` });
      seen.add(key.name);
    }
    if (Array.isArray(key.routes)) {
      key.routes.forEach((route: unknown, routeIndex) => {
        if (typeof route === 'string' && !routeNames.includes(route)) problems.push({ path: ['auth', 'keys', index, 'routes', routeIndex], message: `unknown route "${route}" (known: ${routeNames.join(', ') || 'none'})` });
      });
    }
    if (Array.isArray(key.upstream_keys)) {
      key.upstream_keys.forEach((reference: unknown, referenceIndex) => {
        if (typeof reference !== 'string') return;
        const problem = upstreamKeyProblem(reference, providers);
        if (problem) problems.push({ path: ['auth', 'keys', index, 'upstream_keys', referenceIndex], message: problem });
      });
    }
  });
  return problems;
}

/** Why `provider.key-name` names no configured upstream key, or undefined when it does. */
export function upstreamKeyProblem(reference: string, providers: Record<string, unknown>): string | undefined {
  const dot = reference.indexOf('.');
  const providerName = reference.slice(0, dot);
  const keyName = reference.slice(dot + 1);
  if (!(providerName in providers)) return `unknown provider "${providerName}" (known: ${Object.keys(providers).join(', ') || 'none'})`;
  const provider = asRecord(providers[providerName]);
  const names = Array.isArray(provider.api_keys)
    ? provider.api_keys.map((entry: unknown, index) => (typeof entry === 'string' ? String(index) : String(asRecord(entry).name)))
    : provider.api_key !== undefined
      ? ['0']
      : [];
  if (!names.includes(keyName)) return `provider "${providerName}" has no key named "${keyName}" (known: ${names.join(', ') || 'none'})`;
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function fromZodIssue(issue: z.core.$ZodIssue): ConfigProblem {
  const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}` };
  }
  return { path, message: issue.message };
}

/** `models.chat.targets[1].provider` */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(root)';
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
