import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

interface RunningSim {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** `detour sim` as a user runs it: its own process, nothing else keeping it alive. */
function startSimProcess(args: string[] = []): Promise<RunningSim> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'sim', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /simulator listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) resolve({ url: match[1], child, exited });
    });
    void exited.then((code) => reject(new Error(`detour sim exited with ${code} before listening: ${stdout}`)));
  });
}

async function isServing(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/_sim/stats`);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Polls until the simulator answers again, or the process exits (which is the bug). */
async function waitUntilServing(sim: RunningSim): Promise<'serving' | 'exited'> {
  let hasExited = false;
  void sim.exited.then(() => (hasExited = true));
  for (;;) {
    if (hasExited) return 'exited';
    if (await isServing(sim.url)) return 'serving';
    await sleep(50);
  }
}

describe('detour sim on its own', () => {
  it('refuses connections after POST /_sim/down, then serves again without exiting', async () => {
    const sim = await startSimProcess();
    const down = await fetch(`${sim.url}/_sim/down`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ for_ms: 1500 }) });
    expect(await down.json()).toEqual({ ok: true, for_ms: 1500 });
    // The listener closes once that answer is out: a new connection is refused.
    let refused = false;
    for (let tries = 0; tries < 40 && !refused; tries++) {
      refused = !(await isServing(sim.url));
      if (!refused) await sleep(25);
    }
    expect(refused).toBe(true);
    expect(await waitUntilServing(sim)).toBe('serving');
    const chat = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(chat.status).toBe(200);
  });

  it('comes back after a timeline `down` window given with --faults', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detour-sim-'));
    const plan = join(dir, 'faults.yaml');
    writeFileSync(plan, 'timeline:\n  - { at: 300ms, for: 1s, fault: { down: true } }\n');
    const sim = await startSimProcess(['--faults', plan]);
    let sawDown = false;
    for (let tries = 0; tries < 80 && !sawDown; tries++) {
      sawDown = !(await isServing(sim.url));
      if (!sawDown) await sleep(25);
    }
    expect(sawDown).toBe(true);
    expect(await waitUntilServing(sim)).toBe('serving');
  });

  it('rejects a for_ms that is not a number of milliseconds', async () => {
    const sim = await startSimProcess();
    const response = await fetch(`${sim.url}/_sim/down`, { method: 'POST', body: '{"for_ms":"soon"}' });
    expect(response.status).toBe(400);
    expect(await isServing(sim.url)).toBe(true);
  });
});
