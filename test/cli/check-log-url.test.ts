import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseUrlSecrets, redactDatabaseUrl } from '../../src/observability/request-log/database-url.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const password = 'Hunter2-db-Pass';

function check(log: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'detour-check-'));
  const config = join(dir, 'detour.yaml');
  writeFileSync(
    config,
    `log: ${log}
providers:
  primary: { type: openai, base_url: http://127.0.0.1:9001/v1, api_key: sk-x }
models:
  chat: { targets: [ { provider: primary, model: gpt-4o-mini } ] }
`,
  );
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'check', '--config', config], { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('log.url in detour check', () => {
  it('shows where the request log is, with the password redacted, from ${VAR} interpolation too', async () => {
    const direct = await check(`{ url: "postgresql://detour:${password}@db.internal:5432/detour?sslmode=require" }`);
    expect(direct.code).toBe(0);
    expect(direct.output).toContain('request log: postgresql://detour:[redacted]@db.internal:5432/detour?sslmode=require');
    expect(direct.output).not.toContain(password);
    const fromEnv = await check('{ url: "${DETOUR_TEST_LOG_URL}" }', { DETOUR_TEST_LOG_URL: `postgres://detour:${encodeURIComponent(`${password}@/`)}@10.0.0.5/logs` });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.output).toContain('request log: postgres://detour:[redacted]@10.0.0.5/logs');
    expect(fromEnv.output).not.toContain(password);
    expect((await check('{ path: ./here.sqlite }')).output).toContain('request log: ./here.sqlite');
  });

  it('refuses a URL that is not PostgreSQL without repeating it (it may hold a password)', async () => {
    const result = await check(`{ url: "mysql://detour:${password}@db/detour" }`);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('log.url: expected a postgres:// or postgresql:// URL');
    expect(result.output).not.toContain(password);
  });
});

describe('database URL redaction', () => {
  it.each([
    ['postgres://u:pw-secret@h:5432/db', 'postgres://u:[redacted]@h:5432/db', ['pw-secret']],
    ['postgres://u:p%40ss-word@h/db', 'postgres://u:[redacted]@h/db', ['p%40ss-word', 'p@ss-word']],
    ['postgres://h/db?user=u&password=qs-secret', 'postgres://h/db?user=u&password=[redacted]', ['qs-secret']],
    ['postgres://u@h/db', 'postgres://u@h/db', []],
  ])('%s is shown as %s; its secrets are %j', (url, shown, secrets) => {
    expect(redactDatabaseUrl(url)).toBe(shown);
    expect(databaseUrlSecrets(url)).toEqual(secrets);
  });

  it('a URL that does not parse is not shown at all, and its password is still a secret', () => {
    const url = 'postgres://u:odd-secret@/db?host=/var/run/postgresql';
    expect(redactDatabaseUrl(url)).not.toContain('odd-secret');
    expect(databaseUrlSecrets(url)).toContain('odd-secret');
  });
});
