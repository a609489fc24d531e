// The failover cases: the simulator is told how the primary fails (faults scoped to the primary's
// model), then failing and healthy routes are measured side by side on the same gateway.
import { models } from './configs.mjs';
import { probeFailover } from './failover-probe.mjs';
import { difference } from './stats.mjs';

async function setFaults(simUrl, faults) {
  const response = await fetch(`${simUrl}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ faults }) });
  if (!response.ok) throw new Error(`the simulator refused the fault plan: ${response.status} ${await response.text()}`);
}

/** Each case: how the primary fails, the fault that makes it so, and the route measured. */
function cases(attemptTimeoutMs) {
  return [
    { name: '503', description: 'primary answers 503, default retry (2 attempts, full-jitter backoff ≤200 ms)', faults: [{ model: models.primary, status: 503 }], route: 'faulty' },
    { name: '503, no retry', description: 'primary answers 503, retry.attempts 1 (straight to the backup)', faults: [{ model: models.primary, status: 503 }], route: 'faulty-no-retry' },
    { name: 'connection refused', description: 'nothing listens on the primary\'s port, default retry', faults: [], route: 'refused' },
    { name: 'connection refused, no retry', description: 'nothing listens on the primary\'s port, retry.attempts 1', faults: [], route: 'refused-no-retry' },
    { name: `timeout (${attemptTimeoutMs} ms)`, description: `primary accepts and never answers; attempt_timeout_ms ${attemptTimeoutMs} (a timeout fails over at once)`, faults: [{ model: models.primary, hang: true }], route: 'faulty' },
  ];
}

export async function measureFailover({ gatewayUrl, simUrl, attemptTimeoutMs, samples, progress }) {
  const url = `${gatewayUrl}/v1/chat/completions`;
  const results = [];
  try {
    for (const failure of cases(attemptTimeoutMs)) {
      progress.begin(`failover: ${failure.name}`);
      await setFaults(simUrl, failure.faults);
      // Bounded in time as well as count: a case that would take minutes stops with fewer samples.
      const maxMs = Math.max(10_000, samples * (attemptTimeoutMs + 250) * 2);
      const measured = await probeFailover({ url, healthyModel: 'healthy', failingModel: failure.route, samples, warmup: Math.min(5, samples), maxMs, onProgress: (done, total) => progress.update(done, total) });
      results.push({ name: failure.name, description: failure.description, ...measured, addedP50Ms: difference(measured.failing.latencyMs.p50, measured.healthy.latencyMs.p50) });
    }
  } finally {
    await setFaults(simUrl, []);
  }
  return results;
}
