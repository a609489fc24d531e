import { toRuntimeSettings } from '../config/runtime.js';
import { effectiveRegion, isWithinRegions } from '../core/regions.js';
import { redactDatabaseUrl } from '../observability/request-log/database-url.js';
import { loadConfigOrExit } from './load.js';

export function runCheck(options: { config: string }): void {
  const config = loadConfigOrExit(options.config);
  const settings = toRuntimeSettings(config);
  const providerRegion = new Map(settings.providers.map((provider) => [provider.name, provider.region]));
  process.stdout.write(`${options.config} is valid: ${settings.providers.length} provider(s), ${settings.routes.length} route(s)${settings.region ? `, this instance in ${settings.region}` : ''}\n`);
  for (const route of settings.routes) {
    const described = route.targets.map((target) => ({ name: `${target.provider}/${target.model}`, region: effectiveRegion(target.region, providerRegion.get(target.provider)) }));
    const kept = described.filter((target) => isWithinRegions(target, route.regions));
    const left = described.filter((target) => !isWithinRegions(target, route.regions));
    const shown = kept.map((target) => (target.region ? `${target.name} (${target.region})` : target.name)).join(' → ');
    process.stdout.write(`  ${route.name}${route.kind === 'embeddings' ? ' (embeddings)' : ''}: ${shown}${route.regions ? ` [only ${route.regions.join(', ')}]` : ''}\n`);
    if (left.length > 0) process.stdout.write(`    left out (outside its regions): ${left.map((target) => `${target.name} (${target.region ?? 'no region'})`).join(', ')}\n`);
  }
  const log = config.log;
  // The database URL is shown without its password.
  const where = !log.enabled ? 'off (log.enabled: false)' : log.url !== undefined ? redactDatabaseUrl(log.url) : log.path;
  process.stdout.write(`  request log: ${where}\n`);
}
