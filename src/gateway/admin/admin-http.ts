import type { GatewayResponse, Handler } from '../http.js';
import { csrfRefusal, type AdminAccess } from './access.js';

/** Admin answers hold live operational data: never cached, never framed, never sniffed. */
export const privateHeaders: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Pages load only their own scripts and styles and talk only to this server. */
export const pageSecurityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

export function content(status: number, contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}): GatewayResponse {
  return { status, headers: { 'content-type': contentType, ...headers }, body };
}

export function adminJson(status: number, value: unknown): GatewayResponse {
  return content(status, 'application/json; charset=utf-8', JSON.stringify(value), { ...privateHeaders });
}

export function adminError(status: number, code: string, message: string, headers: Record<string, string> = {}): GatewayResponse {
  return content(status, 'application/json; charset=utf-8', JSON.stringify({ error: { code, message } }), { ...privateHeaders, ...headers });
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char] ?? char);
}

function loginPage(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Detour admin: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/app.css"></head>
<body class="login"><main><h1>Detour</h1><p>${escapeHtml(message)}</p>
<form method="post" action="/admin/login"><label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form></main></body></html>`;
}

/**
 * Wraps an admin handler with access control. An API caller gets a JSON 401/403; a page asked
 * for by a browser gets the sign-in form when a token is configured.
 */
export function guarded(access: AdminAccess, handler: Handler, options: { isPage?: boolean } = {}): Handler {
  return (request, context) => {
    const verdict = access.check(request);
    if (verdict.isAllowed) {
      const isStateChanging = request.method !== 'GET' && request.method !== 'HEAD';
      const refusal = isStateChanging ? csrfRefusal(request, verdict) : undefined;
      return refusal === undefined ? handler(request, context) : adminError(403, 'CSRF_REFUSED', refusal);
    }
    if (options.isPage && verdict.status === 401) {
      return content(401, 'text/html; charset=utf-8', loginPage('Sign in with the admin token to see the dashboard.'), { ...privateHeaders, ...pageSecurityHeaders });
    }
    const headers: Record<string, string> = verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="detour-admin"' } : {};
    return adminError(verdict.status, verdict.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', verdict.message, headers);
  };
}
