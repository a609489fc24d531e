import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminAccess } from './access.js';

export type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

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

export function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

export function sendAdminJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value), { ...privateHeaders });
}

export function sendAdminError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify({ error: { code, message } }), { ...privateHeaders, ...headers });
}

export function queryOf(request: IncomingMessage): URLSearchParams {
  const url = request.url ?? '/';
  const index = url.indexOf('?');
  return new URLSearchParams(index === -1 ? '' : url.slice(index + 1));
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
  return (request, response) => {
    const verdict = access.check(request);
    if (verdict.isAllowed) return handler(request, response);
    request.resume();
    if (options.isPage && verdict.status === 401) {
      send(response, 401, 'text/html; charset=utf-8', loginPage('Sign in with the admin token to see the dashboard.'), { ...privateHeaders, ...pageSecurityHeaders });
      return;
    }
    const headers: Record<string, string> = verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="detour-admin"' } : {};
    sendAdminError(response, verdict.status, verdict.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', verdict.message, headers);
  };
}
