import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { OtlpReceiver, spanKind } from '../observability/otlp-receiver.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const cleanup = new Cleanup();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
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
    const child = spawn(process.execPath, [cli, 'start', '--config', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const match = /listening on (http:\/\/[^\s]+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      void exited.then((code) => reject(new Error(`exited ${code}: ${output}`)));
    });
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
