import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { providerTypes } from '../../src/providers/registry.js';
import { secretsOf, toObservabilitySettings } from '../../src/gateway/observability-config.js';

const base = {
  providers: { primary: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_key: 'sk-upstream-secret' } },
  models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
};

function load(extra: Record<string, unknown>, models: Record<string, unknown> = base.models) {
  return validateConfig({ ...base, models, ...extra }, { providerTypes: providerTypes(), env: {} });
}

function problems(extra: Record<string, unknown>, models?: Record<string, unknown>): readonly string[] {
  try {
    load(extra, models);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('observability config', () => {
  it('logs requests to ./detour-requests.sqlite by default, without bodies, for a week', () => {
    const settings = toObservabilitySettings(load({}));
    expect(settings.requestLog).toMatchObject({ isEnabled: true, path: './detour-requests.sqlite', logBodies: false, maxAgeMs: 168 * 3_600_000, maxSizeBytes: 1024 * 1024 * 1024 });
    expect(settings.alerts.sinks).toEqual([]);
    expect(settings.slos).toEqual([]);
  });

  it('reads SLOs per route, alert sinks, prices and the request log', () => {
    const settings = toObservabilitySettings(
      load(
        {
          log: { path: '/tmp/x.sqlite', bodies: true, max_age_hours: 24, max_size_mb: 100 },
          alerts: { sinks: [{ type: 'slack', url: 'https://hooks.slack.com/services/T/B/secret' }, { type: 'webhook', name: 'pager', url: 'https://example.com/hook', headers: { authorization: 'Bearer hook-secret' }, types: ['target_down'] }] },
          prices: { 'my-model': { input_per_million: 1, output_per_million: 2 } },
        },
        { chat: { ...base.models.chat, slo: { success_rate: 0.999, p95_ms: 5000 } } },
      ),
    );
    expect(settings.slos).toEqual([{ route: 'chat', successRate: 0.999, p95Ms: 5000, minRequests: 20 }]);
    expect(settings.alerts.sinks.map((sink) => sink.name)).toEqual(['slack-1', 'pager']);
    expect(settings.prices['my-model']).toMatchObject({ inputPerMillion: 1, outputPerMillion: 2 });
    expect(settings.requestLog).toMatchObject({ path: '/tmp/x.sqlite', logBodies: true, maxAgeMs: 24 * 3_600_000 });
    expect(settings.secrets).toEqual(expect.arrayContaining(['sk-upstream-secret', 'https://hooks.slack.com/services/T/B/secret', 'Bearer hook-secret']));
  });

  it('explains mistakes with their path', () => {
    expect(problems({ server: { admin_token: 'short' } })).toEqual([expect.stringContaining('server.admin_token: admin_token must be at least 16 characters')]);
    expect(problems({}, { chat: { ...base.models.chat, slo: {} } })).toEqual([expect.stringContaining('models.chat.slo: give success_rate, p95_ms or both')]);
    expect(problems({}, { chat: { ...base.models.chat, slo: { success_rate: 99.9 } } })).toEqual([expect.stringContaining('models.chat.slo.success_rate')]);
    expect(problems({ alerts: { sinks: [{ type: 'pagerduty', url: 'https://example.com' }] } })[0]).toContain('alerts.sinks[0].type');
    expect(problems({ log: { bodys: true } })[0]).toContain('log: unknown key "bodys"');
  });

  it('treats the admin token as a secret', () => {
    expect(secretsOf(load({ server: { admin_token: 'admin-token-0123456789abcdef' } }))).toContain('admin-token-0123456789abcdef');
  });
});
