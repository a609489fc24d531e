import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The built CLI, as users run it (`npm test` builds first). */
const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // No key in the environment: the drill must not need one.
    const env = { ...process.env, OPENAI_API_KEY: '', GROQ_API_KEY: '' };
    const child = spawn(process.execPath, [cli, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function workspace(targets: string): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'detour-drill-cli-'));
  const config = join(dir, 'detour.yaml');
  writeFileSync(
    config,
    `providers:
  primary: { type: openai, base_url: 'https://api.openai.com/v1', api_key: '\${OPENAI_API_KEY}' }
  backup: { type: openai, base_url: 'https://api.groq.com/openai/v1', api_key: '\${GROQ_API_KEY}' }
models:
  chat:
    targets:
${targets}
    retry: { attempts: 2, backoff_ms: 50, max_backoff_ms: 200 }
    timeout_ms: 8000
`,
  );
  return { dir, config };
}

describe('detour drill', () => {
  it('exits 0 and writes report.json and report.html into a new folder when every verdict passes', async () => {
    const { dir, config } = workspace('      - { provider: primary, model: gpt-4o-mini }\n      - { provider: backup, model: llama-3.3-70b-versatile }');
    const result = await run(['drill', '--config', config, '--scenario', 'outage', '--duration', '2s', '--rps', '10', '--no-progress'], dir);
    expect(result.stderr).toContain('nothing real is called');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/outage\s+100\.0%.*PASS/);
    // The breaker's cooldown shrank with the incidents, and the report says so.
    expect(result.stdout).toContain('breaker.open_ms 30 s → 1 s');
    const folder = /Report: (.*)report\.html/.exec(result.stdout)?.[1];
    expect(folder).toMatch(/detour-drill-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\/$/);
    const report = JSON.parse(readFileSync(join(folder ?? '', 'report.json'), 'utf8')) as { passed: boolean; scenarios: Array<{ name: string }> };
    expect(report.passed).toBe(true);
    expect(report.scenarios.map((scenario) => scenario.name)).toEqual(['outage']);
    expect(readFileSync(join(folder ?? '', 'report.html'), 'utf8')).toContain('<svg class="chart timeline-chart"');
  });

  it('exits 1 when a verdict fails: an outage with nothing to fail over to, and no waiting for recovery', async () => {
    // With the default wait_for_recovery_ms a one-target route rides out this short outage: requests wait for the primary.
    const { dir, config } = workspace('      - { provider: primary, model: gpt-4o-mini }\n    wait_for_recovery_ms: 0');
    const out = join(dir, 'out');
    const result = await run(['drill', '--config', config, '--scenario', 'outage', '--duration', '2s', '--rps', '10', '--out', out, '--no-progress'], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL success rate');
    expect(result.stdout).toContain('single target');
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toMatchObject({ passed: false });
  });

  it('exits 2 on a duration too short for the breaker, naming the timing and the shortest usable one', async () => {
    const { dir, config } = workspace('      - { provider: primary, model: gpt-4o-mini }\n      - { provider: backup, model: llama-3.3-70b-versatile }');
    const result = await run(['drill', '--config', config, '--scenario', 'outage', '--duration', '150ms', '--no-progress'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--duration 150 ms is too short for breaker\.open_ms \(30 s\): scaled ×0\.00\d with the incidents it would be 75 ms, under the 100 ms a drill can honour; use --duration 1s or more/);
  });

  it('exits 2 on a scenario or route that does not exist', async () => {
    const { dir, config } = workspace('      - { provider: primary, model: gpt-4o-mini }');
    const unknownScenario = await run(['drill', '--config', config, '--scenario', 'meteor-strike'], dir);
    expect(unknownScenario.code).toBe(2);
    expect(unknownScenario.stderr).toContain('unknown scenario "meteor-strike"');
    const unknownRoute = await run(['drill', '--config', config, '--route', 'nope'], dir);
    expect(unknownRoute.code).toBe(2);
    expect(unknownRoute.stderr).toContain('unknown route "nope" (routes: chat)');
  });
});
