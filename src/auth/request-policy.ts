/**
 * The front door's transport-level rules as pure functions of header values: JSON-only bodies,
 * the `Host` check against DNS rebinding, CORS for listed origins only, and the bind rule.
 */

/** Whether a `content-type` is JSON (`application/json`, with any parameters such as charset). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json';
}

/** The host name of a `Host` header, without its port, lower case (`[::1]:8787` → `::1`). */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']');
    return end === -1 ? undefined : trimmed.slice(1, end);
  }
  const colon = trimmed.lastIndexOf(':');
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

/** An allowed-host entry as a bare lower-case name: `[::1]:8787`, `::1` and `::1` alike. */
function entryName(entry: string): string {
  const trimmed = entry.trim().toLowerCase();
  if (!trimmed.startsWith('[') && trimmed.split(':').length > 2) return trimmed;
  return hostName(trimmed) ?? trimmed;
}

/** The `Host` names accepted by default: the listen address, localhost and 127.0.0.1 (and ::1). */
export function defaultAllowedHosts(listenHost: string): string[] {
  return [...new Set([entryName(listenHost), 'localhost', '127.0.0.1', '::1'])];
}

/** Whether a request's `Host` is one of `allowed` (a rebinding page's Host is its own domain). */
export function isAllowedHost(host: string | undefined, allowed: readonly string[]): boolean {
  const name = hostName(host);
  if (name === undefined) return false;
  return allowed.some((entry) => entry === '*' || entryName(entry) === name);
}

/** Whether an address is loopback (`127.0.0.0/8`, `::1`, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(name);
}

/** Why listening on `host` is refused, or undefined when it is allowed. */
export function bindRefusal(host: string, options: { authMode: 'none' | 'keys'; allowUnauthenticated: boolean }): string | undefined {
  if (options.authMode !== 'none' || options.allowUnauthenticated || isLoopbackHost(host)) return undefined;
  return (
    `refusing to listen on ${host} with auth.mode: none: anyone who reaches the port could spend your upstream keys. ` +
    'Turn on client keys (auth.mode: keys, then `detour keys create`), listen on 127.0.0.1, ' +
    'or set server.allow_unauthenticated: true if something in front of Detour authenticates clients.'
  );
}

const corsAllowedHeaders = 'authorization, content-type, x-api-key, x-goog-api-key, anthropic-version, anthropic-beta, openai-organization, openai-project, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout, x-request-id';

/** CORS headers for an origin listed in `server.cors_origins` (`*` allows any); none for any other. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[], isPreflight: boolean): Record<string, string> | undefined {
  if (origin === undefined || allowed.length === 0) return undefined;
  if (!allowed.includes('*') && !allowed.includes(origin)) return undefined;
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': 'x-request-id, x-detour-route, x-detour-provider, x-detour-model, x-detour-target, x-detour-region, x-detour-attempts, x-detour-failover, x-detour-degraded, retry-after' };
  if (isPreflight) {
    headers['access-control-allow-methods'] = 'GET, POST, OPTIONS';
    headers['access-control-allow-headers'] = corsAllowedHeaders;
    headers['access-control-max-age'] = '600';
  }
  return headers;
}
