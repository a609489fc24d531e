// The cost of a failover: sequential requests through Detour to a route whose primary fails,
// alternated with requests to a healthy route on the same gateway (the paired baseline).
import { Agent, request } from 'undici';
import { chatBody } from './load.mjs';
import { summarize } from './stats.mjs';

async function timedCall(agent, url, model) {
  const startedAt = performance.now();
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(model), dispatcher: agent });
  await response.body.text();
  return {
    ms: performance.now() - startedAt,
    status: response.statusCode,
    upstreamCalls: Number(response.headers['x-detour-attempts'] ?? Number.NaN),
    isFailover: response.headers['x-detour-failover'] === 'true',
  };
}

function collect(samples) {
  const ok = samples.filter((sample) => sample.status === 200);
  const calls = ok.map((sample) => sample.upstreamCalls).filter(Number.isFinite);
  return {
    latencyMs: summarize(ok.map((sample) => sample.ms)),
    upstreamCallsPerRequest: calls.length > 0 ? calls.reduce((sum, value) => sum + value, 0) / calls.length : undefined,
    failoverShare: ok.length > 0 ? ok.filter((sample) => sample.isFailover).length / ok.length : undefined,
    non200: samples.length - ok.length,
  };
}

/**
 * @param url           the gateway's chat-completions URL
 * @param healthyModel  route whose primary answers
 * @param failingModel  route whose primary fails in the way being measured
 */
export async function probeFailover({ url, healthyModel, failingModel, samples, warmup, maxMs, onProgress }) {
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const healthy = [];
  const failing = [];
  const startedAt = Date.now();
  try {
    for (let round = 0; round < warmup + samples && Date.now() - startedAt < maxMs; round++) {
      const healthySample = await timedCall(agent, url, healthyModel);
      const failingSample = await timedCall(agent, url, failingModel);
      if (round >= warmup) {
        healthy.push(healthySample);
        failing.push(failingSample);
      }
      onProgress?.(round + 1, warmup + samples);
    }
  } finally {
    await agent.close();
  }
  return { healthy: collect(healthy), failing: collect(failing) };
}
