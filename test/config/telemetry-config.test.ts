import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { secretsOf } from '../../src/gateway/observability-config.js';
import { toTracingSettings, tracesUrlOf } from '../../src/gateway/telemetry-config.js';
import { providerTypes } from '../../src/providers/registry.js';

const base = {
  providers: { primary: { type: 'openai', base_url: 'http://127.0.0.1:1/v1', api_key: 'sk-upstream-secret' } },
  models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
};

function load(telemetry: unknown) {
  return validateConfig({ ...base, telemetry }, { providerTypes: providerTypes(), env: { COLLECTOR_KEY: 'collector-key-abc123' } });
}

function problems(telemetry: unknown): readonly string[] {
  try {
    load(telemetry);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('telemetry config', () => {
  it('is off without otlp_endpoint: no tracing settings at all', () => {
    expect(toTracingSettings(load(undefined))).toBeUndefined();
    expect(toTracingSettings(load({ service_name: 'x' }))).toBeUndefined();
  });

  it('maps the keys, with defaults, and the collector headers count as secrets', () => {
    const config = load({ otlp_endpoint: 'http://collector:4318', headers: { 'x-api-key': '${COLLECTOR_KEY}' } });
    expect(toTracingSettings(config)).toEqual({
      url: 'http://collector:4318/v1/traces',
      serviceName: 'detour',
      headers: { 'x-api-key': 'collector-key-abc123' },
      sampleRatio: 1,
      maxQueueSize: 8192,
      maxExportBatchSize: 512,
      exportIntervalMs: 2000,
      exportTimeoutMs: 10_000,
    });
    expect(secretsOf(config)).toContain('collector-key-abc123');
  });

  it.each([
    ['http://collector:4318', 'http://collector:4318/v1/traces'],
    ['http://collector:4318/', 'http://collector:4318/v1/traces'],
    ['https://otlp.example.com/tenant/a', 'https://otlp.example.com/tenant/a/v1/traces'],
    ['https://otlp.example.com/v1/traces', 'https://otlp.example.com/v1/traces'],
  ])('the endpoint %s sends to %s', (endpoint, url) => {
    expect(tracesUrlOf(endpoint)).toBe(url);
  });

  it('refuses what cannot work, naming the key', () => {
    expect(problems({ otlp_endpoint: 'ftp://collector' }).join('\n')).toContain('telemetry.otlp_endpoint');
    expect(problems({ otlp_endpoint: 'not a url' }).join('\n')).toContain('telemetry.otlp_endpoint');
    expect(problems({ otlp_endpoint: 'http://c:4318', sample_ratio: 1.5 }).join('\n')).toContain('telemetry.sample_ratio');
    expect(problems({ otlp_endpoint: 'http://c:4318', max_queue_size: 10, max_export_batch_size: 20 }).join('\n')).toContain('telemetry.max_export_batch_size');
    expect(problems({ otlp_endpoint: 'http://c:4318', endpoint: 'x' }).join('\n')).toContain('telemetry');
  });
});
