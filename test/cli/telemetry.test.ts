import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { OtlpReceiver, spanKind } from '../observability/otlp-receiver.js';
import { killLeftovers, startDetourProcess } from '../helpers/detour-process.js';

const cleanup = new Cleanup();
const children: ChildProcess[] = [];
afterEach(async () => {
  killLeftovers(children);
  await cleanup.run();
});

describe('detour start exports traces', () => {
  it('spans still queued at SIGTERM are sent before the process exits', async () => {
    const receiver = cleanup.add(await new OtlpReceiver().listen());
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const folder = mkdtempSync(join(tmpdir(), 'detour-telemetry-'));
    cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
    const path = join(folder, 'detour.yaml');
    // An export interval far longer than the test: only the shutdown's flush can deliver the spans.
    writeFileSync(
      path,
      `server: { host: 127.0.0.1, port: 0 }
log: { enabled: false }
telemetry: { otlp_endpoint: ${receiver.url}, service_name: detour-cli, export_interval_ms: 600000 }
providers:
  sim: { type: openai, base_url: ${sim.url}/v1, api_key: sk-test-key-0001 }
models:
  chat:
    targets: [{ provider: sim, model: gpt-4o-mini }]
`,
    );
    const { url, child, exited } = await startDetourProcess(path, { children });
    const traceId = 'abcdef0123456789abcdef0123456789';
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-1234567890abcdef-01` },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    expect(response.status).toBe(200);
    expect(receiver.spans).toHaveLength(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const spans = receiver.trace(traceId);
    expect(spans.map((span) => span.kind).sort()).toEqual([spanKind.server, spanKind.client]);
    expect(spans.every((span) => span.resource['service.name'] === 'detour-cli')).toBe(true);
    const call = spans.find((span) => span.kind === spanKind.client);
    expect(sim.captured.at(-1)?.headers.traceparent).toBe(`00-${traceId}-${call?.spanId}-01`);
  });
});
