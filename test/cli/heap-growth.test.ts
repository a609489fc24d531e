import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = join(import.meta.dirname, '..', '..', 'dist', 'cli');

/**
 * A process that keeps 400,000 objects in flight (each lives through several young collections,
 * as rows waiting for their batch or requests waiting for their upstream do) and replaces them
 * six million times: what it promotes is garbage by the next full collection. Prints the most
 * heap it used.
 */
function peakHeapMb(percent: number): number {
  const script = `
    import { getHeapStatistics } from 'node:v8';
    const { setHeapGrowth } = await import(${JSON.stringify(pathToFileURL(join(dist, 'heap-growth.js')).href)});
    setHeapGrowth(${percent});
    const inFlight = new Array(400_000);
    let peak = 0;
    for (let i = 0; i < 6_000_000; i++) {
      inFlight[i % inFlight.length] = { i, text: 'row ' + i, pair: [i, i + 1] };
      if (i % 2000 === 0) peak = Math.max(peak, getHeapStatistics().used_heap_size);
    }
    process.stdout.write(String(peak / 1048576));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return Number(child.stdout);
}

describe('detour start --heap-growth', () => {
  it('holds the heap near what is live: a quarter of growth peaks at well under what V8 lets it reach', () => {
    const own = peakHeapMb(0);
    const limited = peakHeapMb(25);
    expect(own).toBeGreaterThan(100);
    expect(limited).toBeLessThan(own * 0.6);
  });

  it('refuses a value that is not a whole percentage from 0 to 300', () => {
    for (const value of ['-1', '301', '12.5', 'lots']) {
      const child = spawnSync(process.execPath, [join(dist, 'main.js'), 'start', '--config', 'unused.yaml', '--heap-growth', value], { encoding: 'utf8' });
      expect(child.status).toBe(1);
      expect(child.stderr).toContain('a whole percentage from 0');
    }
  });
});
