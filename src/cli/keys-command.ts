import { parseKeyDuration } from '../auth/key-duration.js';
import { KeyManager, KeyRequestError, type KeyRequest } from '../auth/key-manager.js';
import { keyJson, keyPeriods, keyPriorities, type KeyPeriod, type KeyPriority, type VirtualKey } from '../auth/virtual-key.js';
import { systemClock } from '../core/clock.js';
import type { DetourConfig } from '../config/schema.js';
import { openKeyStore, upstreamKeyNames } from '../gateway/front-door.js';
import { loadConfigOrExit } from './load.js';

export interface KeysCreateOptions {
  config: string;
  name: string;
  routes?: string;
  rpm?: number;
  tpm?: number;
  maxParallel?: number;
  budgetUsd?: number;
  period?: string;
  expires?: string;
  priority?: string;
  upstreamKeys?: string;
}

class UsageError extends Error {}

/** Runs one key operation against the config's key store, printing errors as `detour: …` with exit status 2. */
async function withManager<T>(configPath: string, run: (manager: KeyManager, config: DetourConfig) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit(configPath);
  const secret = config.auth.secret;
  if (secret === undefined) fail('stored keys need a secret: set auth.secret in the config or DETOUR_AUTH_SECRET in the environment (at least 16 characters)');
  const store = openKeyStore(config);
  if (!store) fail('no key store: the request log database is off');
  const manager = new KeyManager({
    store,
    secret,
    clock: systemClock,
    routes: Object.keys(config.models),
    upstreamKeys: upstreamKeyNames(config),
    reservedNames: config.auth.keys.map((entry) => entry.name),
  });
  try {
    return await run(manager, config);
  } catch (error) {
    if (error instanceof KeyRequestError || error instanceof UsageError) fail(error.message);
    throw error;
  } finally {
    await store.close();
  }
}

function fail(message: string): never {
  process.stderr.write(`detour: ${message}\n`);
  process.exit(2);
}

const actor = (): string => `cli:${process.env.USER ?? 'unknown'}`;

function listOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  return items.length > 0 ? items : undefined;
}

/** `detour keys create`: prints the new key on stdout, once; what it is on stderr. */
export async function runKeysCreate(options: KeysCreateOptions): Promise<void> {
  await withManager(options.config, async (manager) => {
    if (options.period !== undefined && !(keyPeriods as readonly string[]).includes(options.period)) throw new UsageError('--period: expected day, week or month');
    if (options.priority !== undefined && !(keyPriorities as readonly string[]).includes(options.priority)) throw new UsageError('--priority: expected high, normal or low');
    const expiresInMs = options.expires === undefined ? undefined : parseKeyDuration(options.expires);
    if (options.expires !== undefined && (expiresInMs === undefined || expiresInMs <= 0)) throw new UsageError('--expires: expected a duration such as 90d, 12h or 2w');
    const request: KeyRequest = {
      name: options.name,
      routes: listOf(options.routes),
      rpm: options.rpm,
      tpm: options.tpm,
      maxParallel: options.maxParallel,
      budgetUsd: options.budgetUsd,
      period: options.period as KeyPeriod | undefined,
      priority: options.priority as KeyPriority | undefined,
      upstreamKeys: listOf(options.upstreamKeys),
      expiresInMs,
    };
    const { key, secret } = await manager.create(request, actor());
    process.stdout.write(`${secret}\n`);
    process.stderr.write(`created key ${key.id} "${key.name}"${describeLimits(key)}\nstore it now: it is not shown again\n`);
  });
}

export async function runKeysList(options: { config: string; json?: boolean }): Promise<void> {
  await withManager(options.config, async (manager, config) => {
    const now = Date.now();
    const configKeys = config.auth.keys.map((entry) => ({ id: `cfg_${entry.name}`, name: entry.name, source: 'config' }));
    const stored = await manager.list();
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ data: [...configKeys, ...stored.map((key) => keyJson(key, now))] }, null, 2)}\n`);
      return;
    }
    const rows = [
      ['ID', 'NAME', 'PREFIX', 'STATUS', 'LIMITS'],
      ...configKeys.map((key) => [key.id, key.name, '', 'config', '(auth.keys)']),
      ...stored.map((key) => [key.id, key.name, `${key.prefix}…`, String(keyJson(key, now).status), describeLimits(key).trim()]),
    ];
    const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
    for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}\n`);
  });
}

export async function runKeysShow(id: string, options: { config: string }): Promise<void> {
  await withManager(options.config, async (manager) => {
    process.stdout.write(`${JSON.stringify(keyJson(await manager.show(id), Date.now()), null, 2)}\n`);
  });
}

export async function runKeysRevoke(id: string, options: { config: string }): Promise<void> {
  await withManager(options.config, async (manager) => {
    const key = await manager.revoke(id, actor());
    process.stderr.write(`revoked key ${key.id} "${key.name}" (running gateways stop accepting it within 2 s)\n`);
  });
}

export async function runKeysRotate(id: string, options: { config: string; overlap?: string }): Promise<void> {
  await withManager(options.config, async (manager) => {
    const overlapMs = options.overlap === undefined ? 0 : parseKeyDuration(options.overlap);
    if (overlapMs === undefined) throw new UsageError('--overlap: expected a duration such as 24h, 30m or 0');
    const { key, secret, previousExpiresAt } = await manager.rotate(id, overlapMs, actor());
    process.stdout.write(`${secret}\n`);
    const until = overlapMs === 0 ? 'stops working now' : `keeps working until ${new Date(previousExpiresAt).toISOString()}`;
    process.stderr.write(`rotated key ${key.id} "${key.name}": the previous key ${until}\nstore the new key now: it is not shown again\n`);
  });
}

function describeLimits(key: VirtualKey): string {
  const parts: string[] = [];
  if (key.routes) parts.push(`routes ${key.routes.join(',')}`);
  if (key.rpm !== undefined) parts.push(`${key.rpm} rpm`);
  if (key.tpm !== undefined) parts.push(`${key.tpm} tpm`);
  if (key.maxParallel !== undefined) parts.push(`${key.maxParallel} in flight`);
  if (key.budgetUsd !== undefined) parts.push(`$${key.budgetUsd} per ${key.period}`);
  if (key.expiresAt !== undefined) parts.push(`expires ${new Date(key.expiresAt).toISOString()}`);
  if (key.priority !== 'normal') parts.push(`priority ${key.priority}`);
  if (key.upstreamKeys) parts.push(`upstream ${key.upstreamKeys.join(',')}`);
  return parts.length > 0 ? `: ${parts.join(', ')}` : '';
}
