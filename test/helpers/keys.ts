import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { openAiProvider } from './gateway.js';

export const authSecret = 'test-auth-secret-0123456789abcdef';

/** A fresh request-log path in a temp folder (the key store lives in that database). */
export function tempLogPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'detour-keys-')), 'detour.sqlite');
}

/** A config with `auth.mode: keys` in front of one simulator, routes `chat` and `other`. */
export function keysConfig(sim: Simulator, extra: { auth?: Record<string, unknown>; server?: Record<string, unknown>; providers?: Record<string, unknown>; log?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, ...extra.server },
    providers: extra.providers ?? { primary: openAiProvider(sim, 'sk-upstream-secret-0001') },
    models: {
      chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }], retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 } },
      other: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
    },
    log: { enabled: false, path: tempLogPath(), ...extra.log },
    auth: { mode: 'keys', secret: authSecret, ...extra.auth },
  };
}

/** Creates a key through the admin API (loopback, no admin token) and returns its secret and id. */
export async function createKey(gateway: RunningGateway, body: Record<string, unknown>): Promise<{ key: string; id: string; json: Record<string, unknown> }> {
  const response = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 201) throw new Error(`creating a key answered ${response.status}: ${JSON.stringify(json)}`);
  return { key: json.key as string, id: json.id as string, json };
}
