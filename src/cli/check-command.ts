import { toRuntimeSettings } from '../config/runtime.js';
import { loadConfigOrExit } from './load.js';

export function runCheck(options: { config: string }): void {
  const config = loadConfigOrExit(options.config);
  const settings = toRuntimeSettings(config);
  process.stdout.write(`${options.config} is valid: ${settings.providers.length} provider(s), ${settings.routes.length} route(s)\n`);
  for (const route of settings.routes) {
    process.stdout.write(`  ${route.name}: ${route.targets.map((target) => `${target.provider}/${target.model}`).join(' → ')}\n`);
  }
}
