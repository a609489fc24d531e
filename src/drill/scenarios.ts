import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { formatPath } from '../config/load.js';
import { scenarioSchema, type Scenario } from './scenario-schema.js';

/** The built-in scenarios, in the order `all` plays them. Each is `scenarios/<name>.yaml`. */
export const builtInScenarioNames = ['outage', 'brownout', 'rate-limit-storm', 'rate-limit-ceiling', 'latency-spike', 'stream-stall', 'flapping', 'total-outage'] as const;

/** Built-in scenarios that need regions in the config (`server.region`, targets in and out of it): by name only, not in `all`. */
export const regionScenarioNames = ['region-outage'] as const;

/** Where the built-in files live: the package root's `scenarios/`, two levels up from `src/drill/` and from `dist/drill/` alike. */
export const builtInScenarioDirectory = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** A scenario file that cannot be used, with every problem named. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** Parses a scenario's YAML text; `source` names it in messages. */
export function parseScenario(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ScenarioError(`${source}: YAML syntax: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${formatPath(issue.path.filter((part): part is string | number => typeof part !== 'symbol'))}: ${issue.message}`);
    throw new ScenarioError(`${source} is not a valid scenario:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(error as Error).message}`);
  }
  return parseScenario(text, path);
}

/**
 * The scenarios a `--scenario` argument names: `all`, a built-in name, a YAML file, or several of
 * these separated by commas (`outage,./mine.yaml`).
 */
export function resolveScenarios(argument: string, directory = builtInScenarioDirectory): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const part of argument.split(',').map((item) => item.trim()).filter((item) => item.length > 0)) {
    if (part === 'all') {
      for (const name of builtInScenarioNames) scenarios.push(loadScenarioFile(`${directory}/${name}.yaml`));
    } else if ((builtInScenarioNames as readonly string[]).includes(part) || (regionScenarioNames as readonly string[]).includes(part)) {
      scenarios.push(loadScenarioFile(`${directory}/${part}.yaml`));
    } else if (existsSync(part)) {
      scenarios.push(loadScenarioFile(part));
    } else {
      throw new ScenarioError(`unknown scenario "${part}": neither a file nor a built-in (${[...builtInScenarioNames, ...regionScenarioNames, 'all'].join(', ')})`);
    }
  }
  if (scenarios.length === 0) throw new ScenarioError('no scenario given');
  return scenarios;
}
