// The gateway configs each row runs with, written as YAML to the run's temp directory, and
// `detour check` to learn at run time which provider types this build accepts.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

const server = { host: '127.0.0.1', port: 0 };

/** Upstream model names; the simulator's faults select on them. */
export const models = { healthy: 'bench-healthy', primary: 'bench-primary', backup: 'bench-backup', dead: 'bench-dead' };

function openAiProvider(baseUrl) {
  return { type: 'openai', base_url: `${baseUrl}/v1`, api_key: 'sk-bench-0000' };
}

/** Through Detour to one OpenAI-compatible target. */
export function passThroughConfig(simUrl) {
  return {
    server,
    providers: { sim: openAiProvider(simUrl) },
    models: { chat: { targets: [{ provider: 'sim', model: models.healthy }] } },
  };
}

/** Through Detour to one upstream serving the Responses API (`api: responses`): Codex's path. */
export function responsesPassThroughConfig(simUrl) {
  return {
    server,
    providers: { sim: { ...openAiProvider(simUrl), api: 'responses' } },
    models: { chat: { targets: [{ provider: 'sim', model: models.healthy }] } },
  };
}

/** The pass-through row with circuits, health and counters in Redis (`--state redis`). */
export function passThroughRedisConfig(simUrl, redisUrl) {
  return { ...passThroughConfig(simUrl), state: { store: 'redis', url: redisUrl, prefix: 'bench:' } };
}

/** The primary refuses connections (nothing listens on its port); the backup is healthy. Default retry policy. */
export function deadPrimaryConfig(simUrl, deadPort) {
  return {
    server,
    providers: { dead: openAiProvider(`http://127.0.0.1:${deadPort}`), sim: openAiProvider(simUrl) },
    models: { chat: { targets: [{ provider: 'dead', model: models.dead }, { provider: 'sim', model: models.backup }] } },
  };
}

/** OpenAI clients in, Anthropic upstream out: every request and answer is translated. */
export function crossFormatConfig(anthropicBaseUrl) {
  return {
    server,
    providers: { anthropic: { type: 'anthropic', base_url: anthropicBaseUrl, api_key: 'sk-ant-bench-0000' } },
    models: { chat: { targets: [{ provider: 'anthropic', model: models.healthy, max_tokens: 64 }] } },
  };
}

/**
 * Routes for the failover cost, all on one gateway: a healthy baseline, a primary the simulator
 * fails on command (503 or hang) and a primary that refuses connections; each with the default
 * retry policy and with `retry.attempts: 1` (pure failover, no retry of the primary).
 */
export function failoverConfig(simUrl, deadPort, attemptTimeoutMs) {
  const backup = { provider: 'sim', model: models.backup };
  const noRetry = { attempts: 1, backoff_ms: 0, max_backoff_ms: 0 };
  return {
    server,
    // Each sample must pay the failover: the breakers stay closed, or they would skip the primary after a few.
    breaker: { failure_threshold: 1_000_000, minimum_requests: 1_000_000 },
    defaults: { attempt_timeout_ms: attemptTimeoutMs },
    providers: { sim: openAiProvider(simUrl), dead: openAiProvider(`http://127.0.0.1:${deadPort}`) },
    models: {
      healthy: { targets: [{ provider: 'sim', model: models.healthy }, backup] },
      faulty: { targets: [{ provider: 'sim', model: models.primary }, backup] },
      'faulty-no-retry': { targets: [{ provider: 'sim', model: models.primary }, backup], retry: noRetry },
      refused: { targets: [{ provider: 'dead', model: models.dead }, backup] },
      'refused-no-retry': { targets: [{ provider: 'dead', model: models.dead }, backup], retry: noRetry },
    },
  };
}

export function writeConfig(directory, name, config) {
  const path = join(directory, `${name}.yaml`);
  // The request log stays on, as shipped, but writes into the run's temp directory, never the repository.
  const withLog = { ...config, log: { ...(config.log ?? {}), path: join(directory, `${name}-requests.sqlite`) } };
  writeFileSync(path, stringify(withLog));
  return path;
}

/** Runs `detour check`; `isValid` false with its explanation when this build rejects the config. */
export function checkConfig(mainJs, path) {
  const result = spawnSync(process.execPath, [mainJs, 'check', '--config', path], { encoding: 'utf8', timeout: 15_000 });
  return { isValid: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}
