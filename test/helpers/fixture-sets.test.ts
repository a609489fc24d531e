import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capturedFixtures, projectFixtures } from './fixture-sets.js';

/** When the captured layer runs, is skipped, or fails the run: a fresh clone must pass, CI must not lose the layer silently. */
describe('the captured fixture layer', () => {
  const present = mkdtempSync(join(tmpdir(), 'detour-captured-'));
  const missing = join(present, 'not-there');
  afterAll(() => rmSync(present, { recursive: true, force: true }));

  it.each<[string, Record<string, string | undefined>, string, string]>([
    ['present, outside CI: runs', {}, present, 'present'],
    ['present, on CI: runs', { CI: 'true' }, present, 'present'],
    ['missing, outside CI: skipped', {}, missing, 'skipped'],
    ['missing, CI empty or false: skipped', { CI: '' }, missing, 'skipped'],
    ['missing, CI=false: skipped', { CI: 'false' }, missing, 'skipped'],
    ['missing, on CI: fails the run', { CI: 'true' }, missing, 'required-missing'],
    ['missing, on CI with DETOUR_NO_SHARED: skipped', { CI: 'true', DETOUR_NO_SHARED: '1' }, missing, 'skipped'],
    ['present with DETOUR_NO_SHARED: not used', { DETOUR_NO_SHARED: '1' }, present, 'skipped'],
  ])('%s', (_name, env, dir, state) => {
    const status = capturedFixtures(env, dir);
    expect(status.state).toBe(state);
    // Whatever happens, the reason names the folder, so a reader knows where to look.
    if (status.state !== 'present') expect(status.reason).toContain(dir);
    else expect(status.set.dir).toBe(dir);
  });

  it('on CI, a missing folder says how to run without it on purpose', () => {
    const status = capturedFixtures({ CI: 'true' }, missing);
    expect(status.state === 'required-missing' && status.reason).toMatch(/DETOUR_NO_SHARED=1/);
  });

  it('the project set lists each format\'s answers, whole and streamed under one name', () => {
    expect(projectFixtures.answers('anthropic').map((answer) => [answer.name, answer.json !== undefined, answer.chunks !== undefined])).toStrictEqual([
      ['json-tool', true, true],
      ['refusal', true, true],
      ['text', true, true],
      ['tool-no-args', true, true],
    ]);
    expect(projectFixtures.answers('gemini').filter((answer) => answer.isError).map((answer) => answer.json)).toStrictEqual(['gemini/error-429-retry-info.json']);
  });
});
