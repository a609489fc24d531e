import type { DetourConfig } from '../config/schema.js';
import { systemClock } from '../core/clock.js';
import type { Engine } from '../engine/engine.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { Observability } from '../observability/observability.js';
import { redactSecrets } from '../providers/shared/redact.js';
import { toObservabilitySettings, topologyOf } from '../server/observability-config.js';

export interface LibraryObservabilityOptions {
  logger?: Logger | undefined;
  /** Process metrics (CPU, memory, event loop) in the registry; off by default in process, where the host application usually has its own. */
  processMetrics?: boolean | undefined;
}

/**
 * The server's observability over a library gateway's engine: metrics, the request log (when the
 * config's `log.enabled`), statistics, SLOs and alerts, wired exactly as the server wires them.
 * Loaded only when asked for, so that a gateway without it imports none of it.
 */
export function startObservability(config: DetourConfig, engine: Engine, options: LibraryObservabilityOptions): Observability {
  const settings = toObservabilitySettings(config);
  return new Observability(settings, {
    events: engine.events,
    topology: topologyOf(engine.routes),
    clock: systemClock,
    logger: options.logger ?? silentLogger,
    redact: (text) => redactSecrets(text, settings.secrets),
    targetState: { targets: () => engine.targets() },
    processMetrics: options.processMetrics ?? false,
  });
}
