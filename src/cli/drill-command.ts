import { ConfigError } from '../config/load.js';
import type { DetourConfig } from '../config/schema.js';
import { toMs } from '../sim/faults.js';
import { DrillSetupError, routeUnderTest, runDrill } from '../drill/drill.js';
import { loadConfigForDrill } from '../drill/drill-config.js';
import { formatMs } from '../drill/duration.js';
import { ProgressDisplay } from '../drill/progress.js';
import { defaultOutDirectory, writeReport } from '../drill/report-files.js';
import { renderTable } from '../drill/report-table.js';
import type { Scenario } from '../drill/scenario-schema.js';
import { resolveScenarios, ScenarioError } from '../drill/scenarios.js';

export interface DrillCommandOptions {
  config: string;
  scenario: string;
  /** Milliseconds, parsed by the command line. */
  duration?: number;
  rps: number;
  route?: string;
  out?: string;
  requestLog?: string;
  seed: number;
  progress: boolean;
}

/** Exit statuses: 0 every verdict passed, 1 one failed (or the drill broke), 2 the input was wrong. */
function fail(message: string): never {
  process.stderr.write(`detour drill: ${message}\n`);
  process.exit(2);
}

function prepare(options: DrillCommandOptions): { config: DetourConfig; scenarios: Scenario[]; route: string } {
  try {
    const config = loadConfigForDrill(options.config);
    return { config, scenarios: resolveScenarios(options.scenario), route: routeUnderTest(config, options.route) };
  } catch (error) {
    if (error instanceof ConfigError) fail(`${options.config} is not a valid config:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}`);
    if (error instanceof ScenarioError || error instanceof DrillSetupError) fail(error.message);
    throw error;
  }
}

/** `detour drill`: rehearses outages against a config, prints a table, writes report.json and report.html. */
export async function runDrillCommand(options: DrillCommandOptions): Promise<void> {
  const { config, scenarios, route } = prepare(options);
  const totalMs = scenarios.reduce((sum, scenario) => sum + (options.duration ?? toMs(scenario.duration)), 0);
  const targets = config.models[route]?.targets.map((target) => `${target.provider}/${target.model}`).join(' → ') ?? '';
  process.stderr.write(
    `Drilling route "${route}" (${targets}): ${scenarios.map((scenario) => scenario.name).join(', ')} at ${options.rps} req/s, about ${formatMs(totalMs)}.\n` +
      'Every provider is replaced by a local simulator: nothing real is called and no key is needed.\n',
  );
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(1);
    process.stderr.write('\nstopping: finishing the requests in flight (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = options.progress ? new ProgressDisplay(process.stderr) : undefined;
  try {
    const report = await runDrill({
      config,
      configPath: options.config,
      scenarios,
      route,
      durationMs: options.duration,
      rps: options.rps,
      seed: options.seed,
      requestLogPath: options.requestLog,
      signal: controller.signal,
      onProgress: (update) => progress?.update(update),
      onScenarioFinished: (scenario) => {
        progress?.clear();
        process.stderr.write(`${scenario.verdict.passed ? 'PASS' : 'FAIL'} ${scenario.name}\n`);
      },
    });
    progress?.clear();
    const paths = writeReport(report, options.out ?? defaultOutDirectory());
    process.stdout.write(`${renderTable(report)}\nReport: ${paths.html}\n        ${paths.json}\n`);
    process.exitCode = report.passed ? 0 : 1;
  } catch (error) {
    if (error instanceof DrillSetupError) fail(error.message);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
