import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/**
 * Provider answers as test data, in two sets. The project's own (`test/fixtures/`, written for
 * Detour from the providers' documented wire formats) is always there, and every exact
 * expectation is written against it. Answers captured from the real APIs live outside the
 * repository, in `../shared/fixtures/` beside a checkout: when that folder is there they are an
 * extra layer of content-independent checks; a fresh clone without it skips that layer and says
 * why. On CI (`CI` set) the captured set must be present, unless `DETOUR_NO_SHARED` says this
 * run is meant to go without it.
 */

export const fixtureFormats = ['openai', 'anthropic', 'gemini'] as const;
export type FixtureFormat = (typeof fixtureFormats)[number];

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The captured answers' folder: `../shared/fixtures/` relative to the repository root. */
export const capturedFixturesDir = join(repositoryRoot, '..', 'shared', 'fixtures');
export const projectFixturesDir = join(repositoryRoot, 'test', 'fixtures');

/** One provider answer in a set: a whole body (`*.json`), a stream (`*.chunks.txt`), or both. */
export interface FixtureAnswer {
  format: FixtureFormat;
  /** The file name without its extension: `text`, `json-tool`, `error-429-retry-info`. */
  name: string;
  /** Paths relative to the set, as `FixtureSet` methods take them. */
  json?: string;
  chunks?: string;
  /** `error-*.json`: an upstream error body rather than an answer. */
  isError: boolean;
}

export class FixtureSet {
  constructor(
    /** `project` or `captured`: shown in test names. */
    readonly name: string,
    readonly dir: string,
  ) {}

  /** The absolute path of `openai/text.json` and the like. */
  path(file: string): string {
    return join(this.dir, file);
  }

  text(file: string): string {
    return readFileSync(this.path(file), 'utf8');
  }

  json(file: string): unknown {
    return JSON.parse(this.text(file)) as unknown;
  }

  /** The JSON text of each event of a `.chunks.txt` file, in order. */
  eventLines(file: string): string[] {
    return this.text(file)
      .split('\n')
      .filter((line) => line.trim() !== '');
  }

  /** The parsed payloads of a `.chunks.txt` file, one per event. */
  events(file: string): unknown[] {
    return this.eventLines(file).map((line) => JSON.parse(line) as unknown);
  }

  /** Every answer of one format, whole and streamed under one name, sorted by name. */
  answers(format: FixtureFormat): FixtureAnswer[] {
    const folder = join(this.dir, format);
    if (!existsSync(folder)) return [];
    const byName = new Map<string, FixtureAnswer>();
    for (const file of readdirSync(folder).sort()) {
      const match = /^(.+?)(\.json|\.chunks\.txt)$/.exec(file);
      if (!match?.[1] || !statSync(join(folder, file)).isFile()) continue;
      const name = match[1];
      const answer = byName.get(name) ?? { format, name, isError: name.startsWith('error-') };
      if (match[2] === '.json') answer.json = `${format}/${file}`;
      else answer.chunks = `${format}/${file}`;
      byName.set(name, answer);
    }
    return [...byName.values()];
  }
}

export const projectFixtures = new FixtureSet('project', projectFixturesDir);

export type CapturedStatus = { state: 'present'; set: FixtureSet } | { state: 'skipped'; reason: string } | { state: 'required-missing'; reason: string };

/** `CI=true`, `DETOUR_NO_SHARED=1` are set; empty, `0` and `false` are not. */
function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** Whether the captured layer runs, is skipped (and why), or is missing where it must not be. */
export function capturedFixtures(env: Record<string, string | undefined> = process.env, dir: string = capturedFixturesDir): CapturedStatus {
  const exists = existsSync(dir) && statSync(dir).isDirectory();
  if (isSet(env.DETOUR_NO_SHARED)) {
    const reason = exists ? `the captured fixtures in ${dir} are not used` : `there are no captured fixtures at ${dir}, and this run goes without them`;
    return { state: 'skipped', reason: `DETOUR_NO_SHARED is set: ${reason}` };
  }
  if (exists) return { state: 'present', set: new FixtureSet('captured', dir) };
  if (isSet(env.CI)) {
    return {
      state: 'required-missing',
      reason: `CI is set, but the captured fixtures are missing: ${dir} does not exist. CI runs them; set DETOUR_NO_SHARED=1 for a run meant to go without them.`,
    };
  }
  return { state: 'skipped', reason: `no captured fixtures at ${dir} (they are optional outside CI; the project's own in test/fixtures/ ran)` };
}

/**
 * Declares `body` once per fixture set: the project's always, the captured one when present.
 * A skipped captured layer prints its reason and shows it in a skipped test's name; a missing
 * one on CI is a failing test that says what is missing.
 */
export function describeEachFixtureSet(title: string, body: (set: FixtureSet) => void, status: CapturedStatus = capturedFixtures()): void {
  describe(`${title} — project fixtures`, () => body(projectFixtures));
  if (status.state === 'present') {
    describe(`${title} — captured fixtures`, () => body(status.set));
    return;
  }
  if (status.state === 'required-missing') {
    describe(`${title} — captured fixtures`, () => {
      it('are present (required on CI)', () => {
        throw new Error(status.reason);
      });
    });
    return;
  }
  console.info(`[captured fixtures] "${title}" skipped: ${status.reason}`);
  describe.skip(`${title} — captured fixtures (skipped: ${status.reason})`, () => {
    it('run when the captured folder is present', () => undefined);
  });
}
