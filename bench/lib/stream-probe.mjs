// Streaming overhead: time to the first SSE event and the time the rest of the stream takes,
// direct to the simulator vs. through Detour, one request at a time with a small undici client.
// Requests alternate between the two paths so that drift in machine load hits both alike.
import { Agent, request } from 'undici';
import { summarize } from './stats.mjs';

function streamBody(model) {
  return JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 64 });
}

/** One streamed request: ms to the first complete `data:` event, ms to the end, events counted. */
async function streamOnce(agent, url, body) {
  const startedAt = performance.now();
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: agent });
  let firstEventMs;
  let events = 0;
  let pending = '';
  for await (const chunk of response.body) {
    pending += chunk.toString('utf8');
    let boundary = pending.indexOf('\n\n');
    while (boundary !== -1) {
      const event = pending.slice(0, boundary);
      pending = pending.slice(boundary + 2);
      if (event.startsWith('data:') && !event.startsWith('data: [DONE]')) {
        events++;
        firstEventMs ??= performance.now() - startedAt;
      }
      boundary = pending.indexOf('\n\n');
    }
  }
  const totalMs = performance.now() - startedAt;
  return { status: response.statusCode, firstEventMs, totalMs, events };
}

/**
 * @param paths    `[{ name, url, model }]`, measured in turn on every round
 * @param samples  measured rounds after `warmup` unmeasured ones
 * @param maxMs    stops early (with fewer samples) after this long
 */
export async function probeStreams({ paths, samples, warmup, maxMs, onProgress }) {
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1 });
  const results = paths.map(() => ({ first: [], rest: [], total: [], events: [], failures: 0 }));
  const startedAt = Date.now();
  try {
    for (let round = 0; round < warmup + samples && Date.now() - startedAt < maxMs; round++) {
      for (let index = 0; index < paths.length; index++) {
        const path = paths[index];
        const sample = await streamOnce(agent, path.url, streamBody(path.model));
        if (round < warmup) continue;
        const result = results[index];
        if (sample.status !== 200 || sample.firstEventMs === undefined) {
          result.failures++;
          continue;
        }
        result.first.push(sample.firstEventMs);
        result.total.push(sample.totalMs);
        result.rest.push(sample.totalMs - sample.firstEventMs);
        result.events.push(sample.events);
      }
      onProgress?.(round + 1, warmup + samples);
    }
  } finally {
    await agent.close();
  }
  return paths.map((path, index) => {
    const result = results[index];
    return {
      name: path.name,
      firstEventMs: summarize(result.first),
      restMs: summarize(result.rest),
      totalMs: summarize(result.total),
      eventsPerStream: summarize(result.events).p50,
      failures: result.failures,
    };
  });
}
