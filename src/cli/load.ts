import { ConfigError, loadConfigFile } from '../config/load.js';
import type { DetourConfig } from '../config/schema.js';
import { providerTypes } from '../providers/registry.js';

/** Loads a config for a command, or prints every problem and exits non-zero. */
export function loadConfigOrExit(path: string): DetourConfig {
  try {
    return loadConfigFile(path, { providerTypes: providerTypes() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`detour: ${path} is not a valid config:\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Stops cleanly on Ctrl-C or a termination signal; a second one stops at once. */
export function onShutdown(close: (signal: NodeJS.Signals) => Promise<void>): void {
  let isClosing = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (isClosing) process.exit(1);
    isClosing = true;
    close(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
