import { readFileSync } from 'node:fs';
import { ConfigError, loadConfigFile, validateConfig } from '../config/load.js';
import type { DetourConfig } from '../config/schema.js';
import type { WireFormat } from '../core/events.js';
import { providerTypes } from '../providers/registry.js';
import { describeScaling, scaleTimings, type ScaledTiming } from './timing-scale.js';

/** A provider type's wire format, which its simulator speaks. */
const simFormats: Readonly<Record<string, WireFormat>> = {
  openai: 'openai',
  'azure-openai': 'openai',
  anthropic: 'anthropic',
  gemini: 'gemini',
};

export function simFormatOf(type: string): WireFormat {
  const format = simFormats[type];
  if (!format) throw new ConfigError([`the drill cannot simulate provider type "${type}" (it simulates ${Object.keys(simFormats).join(', ')})`]);
  return format;
}

/** Stands in for any `${VAR}` the environment lacks: a valid URL, so that it passes wherever the config expects one. */
const placeholder = 'http://drill-placeholder.invalid';

/**
 * Loads a config the way `detour start` would, except that a `${VAR}` the environment lacks (and
 * has no `:-fallback`) gets a placeholder instead of failing: the drill replaces every key and
 * base URL anyway, so no secret is needed to rehearse.
 */
export function loadConfigForDrill(path: string, env: Readonly<Record<string, string | undefined>> = process.env): DetourConfig {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // loadConfigFile reports the unreadable file with its own message.
  }
  const filled: Record<string, string | undefined> = { ...env };
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const name = match[1] as string;
    if (filled[name] === undefined || filled[name] === '') filled[name] = placeholder;
  }
  return loadConfigFile(path, { providerTypes: providerTypes(), env: filled });
}

/**
 * A fake key per configured key: distinct, so per-key faults and counts work, and distinct in
 * its last four characters, which is what the simulator's statistics tell keys apart by.
 */
export function fakeKey(providerIndex: number, providerName: string, keyIndex: number): string {
  const slug = providerName.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 24);
  return `sk-drill-${slug}-${keyIndex + 1}-${String(providerIndex * 100 + keyIndex).padStart(4, '0')}`;
}

export interface DrillConfig {
  config: DetourConfig;
  /** What the drill changed that a reader of the report should know. */
  notes: string[];
  /** Breaker and health timings shrunk with the scenario's incidents (empty at natural length). */
  scaled: ScaledTiming[];
}

export interface DrillConfigOptions {
  /** Keep a request log at this path; off otherwise, so that a drill leaves no file behind. */
  requestLogPath?: string | undefined;
  /** What the scenario's absolute times were multiplied by; below 1, breaker and health timings shrink with them. */
  scale?: number | undefined;
  /** The run's length, to name the shortest usable --duration when a timing cannot shrink that far. */
  runMs?: number | undefined;
}

/**
 * The user's config with every provider pointed at its simulator (`simUrls` by provider name)
 * and given fake keys, the gateway on an ephemeral loopback port, and nothing that reaches
 * outside: alert sinks are dropped and the request log is off unless asked for.
 */
export function toDrillConfig(config: DetourConfig, simUrls: ReadonlyMap<string, string>, options: DrillConfigOptions = {}): DrillConfig {
  const notes: string[] = [];
  const providers: Record<string, unknown> = {};
  Object.entries(config.providers).forEach(([name, provider], providerIndex) => {
    const url = simUrls.get(name);
    if (url === undefined) throw new Error(`no simulator for provider "${name}"`);
    const format = simFormatOf(provider.type);
    const keyCount = provider.api_keys?.length ?? 1;
    const keys = Array.from({ length: keyCount }, (_, keyIndex) => fakeKey(providerIndex, name, keyIndex));
    const { api_key: _key, api_keys: _keys, api_version: _version, ...rest } = provider;
    // Azure's deployment URLs and api-key header are one more path than the simulator serves; its wire format is OpenAI's.
    if (provider.type === 'azure-openai') notes.push(`provider "${name}" (azure-openai) is simulated as openai: same wire format, but Azure's deployment URL and api-key header are not exercised`);
    providers[name] = {
      ...rest,
      type: provider.type === 'azure-openai' ? 'openai' : provider.type,
      base_url: format === 'openai' ? `${url}/v1` : format === 'gemini' ? `${url}/v1beta` : url,
      ...(provider.api_keys ? { api_keys: provider.api_keys.map((entry, keyIndex) => (typeof entry === 'string' ? keys[keyIndex] : { name: entry.name, key: keys[keyIndex] })) } : { api_key: keys[0] }),
      ...(provider.type === 'azure-openai' ? {} : provider.api_version !== undefined ? { api_version: provider.api_version } : {}),
    };
  });
  if (config.auth.mode === 'keys') notes.push('auth.mode: keys is off for the drill: its load sends no client key');
  if (config.alerts.sinks.length > 0) notes.push(`${config.alerts.sinks.length} alert sink(s) not called: a drill must not page anyone`);
  // Cloned whole: the providers above still share objects (breaker, health_check) with the user's config, and scaling edits them.
  const raw = structuredClone({
    ...config,
    server: { ...config.server, host: '127.0.0.1', port: 0 },
    providers,
    log: options.requestLogPath === undefined ? { ...config.log, enabled: false } : { ...config.log, enabled: true, path: options.requestLogPath },
    alerts: { ...config.alerts, sinks: [] },
    // The drill's load carries no client key: it rehearses the routes, not the front door.
    auth: { ...config.auth, mode: 'none' },
  });
  const scale = options.scale ?? 1;
  const scaled = scaleTimings(raw as unknown as Record<string, unknown>, scale, options.runMs ?? 0);
  const scaling = describeScaling(scaled, scale);
  if (scaling) notes.push(scaling);
  return { config: validateConfig(raw, { providerTypes: providerTypes(), env: {} }), notes, scaled };
}
