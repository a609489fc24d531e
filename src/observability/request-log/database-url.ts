/**
 * A database URL (`postgres://user:password@host:5432/db`) holds a password: it is shown only
 * with the password replaced, and the password (raw and percent-decoded) joins the secrets
 * that are redacted from every log line, error and admin answer.
 */

const shownPassword = '[redacted]';

/** Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL's password as written and as decoded; empty when there is none or the URL does not parse. */
export function databaseUrlSecrets(url: string): string[] {
  const secrets = new Set<string>();
  for (const password of passwordsOf(url)) {
    secrets.add(password);
    try {
      secrets.add(decodeURIComponent(password));
    } catch {
      // A malformed escape: the raw form is the one that can appear.
    }
  }
  return [...secrets].filter((secret) => secret.length > 0);
}

/** The URL with its password replaced, safe to print; a URL that does not parse is not shown at all. */
export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url.split(':')[0] ?? 'database'}://[unparseable URL, not shown]`;
  }
  if (parsed.password !== '') parsed.password = shownPassword;
  // Query parameters may carry a password too (`?password=…`, `sslpassword`): only their names are shown.
  for (const key of [...parsed.searchParams.keys()]) if (/pass|secret|key/i.test(key)) parsed.searchParams.set(key, shownPassword);
  return parsed.toString().replaceAll(encodeURIComponent(shownPassword), shownPassword);
}

function passwordsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    const inQuery = [...parsed.searchParams.entries()].filter(([key]) => /pass|secret|key/i.test(key)).map(([, value]) => value);
    return [parsed.password, ...inQuery];
  } catch {
    // Not parseable by URL: take what sits between "user:" and the "@" of the authority.
    const match = /^[a-z]+:\/\/[^:/@]*:([^@/]*)@/i.exec(url);
    return match?.[1] === undefined ? [] : [match[1]];
  }
}
