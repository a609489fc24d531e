import type { Handler } from './http.js';

/** A route's path: exact (`/v1/models`), or with `:name` segments that match one path segment each. */
interface PatternRoute {
  method: string;
  path: string;
  segments: readonly string[];
  handler: Handler;
}

/** A match names the route's path as declared (`/v1beta/models/:action`): a bounded label, unlike the path sent. */
export type RouteMatch = { type: 'found'; handler: Handler; params: Readonly<Record<string, string>>; pattern: string } | { type: 'wrong-method'; pattern: string } | { type: 'not-found' };

const noParams: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The gateway's one route table, method + path → handler, as Hono's router is. Exact paths are
 * one map lookup (the hot path); `:param` patterns are tried after, in the order they were added.
 * A path known under another method answers 405, an unknown one 404.
 */
export class Routes {
  private readonly exact = new Map<string, Handler>();
  private readonly exactPaths = new Set<string>();
  private readonly patterns: PatternRoute[] = [];

  on(method: string, path: string, handler: Handler): this {
    if (path.includes('/:')) {
      this.patterns.push({ method, path, segments: path.split('/'), handler });
    } else {
      const key = `${method} ${path}`;
      if (this.exact.has(key)) throw new Error(`route ${key} is defined twice`);
      this.exact.set(key, handler);
      this.exactPaths.add(path);
    }
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.on('GET', path, handler);
  }

  post(path: string, handler: Handler): this {
    return this.on('POST', path, handler);
  }

  match(method: string, path: string): RouteMatch {
    const handler = this.exact.get(`${method} ${path}`);
    if (handler) return { type: 'found', handler, params: noParams, pattern: path };
    let knownAs = this.exactPaths.has(path) ? path : undefined;
    if (this.patterns.length > 0) {
      const segments = path.split('/');
      for (const route of this.patterns) {
        const params = matchSegments(route.segments, segments);
        if (!params) continue;
        if (route.method === method) return { type: 'found', handler: route.handler, params, pattern: route.path };
        knownAs ??= route.path;
      }
    }
    return knownAs !== undefined ? { type: 'wrong-method', pattern: knownAs } : { type: 'not-found' };
  }
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] as string;
    const actual = segments[index] as string;
    if (expected.startsWith(':')) {
      if (actual === '') return undefined;
      params[expected.slice(1)] = safeDecode(actual);
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
