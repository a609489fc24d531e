import type { DetourConfig } from '../config/schema.js';
import { validateConfig } from '../config/load.js';
import { providerTypes } from '../providers/registry.js';

/** The demo's config: a primary and a backup, both simulators on loopback. */
export function demoConfig(primaryUrl: string, backupUrl: string, port: number, host: string, logPath?: string): DetourConfig {
  return validateConfig(
    {
      server: { host, port },
      providers: {
        primary: { type: 'openai', base_url: `${primaryUrl}/v1`, api_key: 'sk-sim-primary', health_check: { interval_ms: 10_000, unhealthy_interval_ms: 5_000 } },
        backup: { type: 'openai', base_url: `${backupUrl}/v1`, api_key: 'sk-sim-backup', health_check: { interval_ms: 10_000, unhealthy_interval_ms: 5_000 } },
      },
      models: {
        chat: {
          targets: [
            { provider: 'primary', model: 'gpt-4o-mini' },
            { provider: 'backup', model: 'gpt-4o-mini' },
          ],
          retry: { attempts: 2, backoff_ms: 100, max_backoff_ms: 1000 },
          timeout_ms: 30_000,
          attempt_timeout_ms: 10_000,
          first_token_timeout_ms: 5_000,
          slo: { success_rate: 0.999, p95_ms: 2000 },
        },
      },
      log: logPath === undefined ? { enabled: false } : { path: logPath },
    },
    { providerTypes: providerTypes(), env: {} },
  );
}
