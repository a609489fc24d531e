import type { Clock } from '../../core/clock.js';
import type { EventBus } from '../../core/events.js';
import type { Logger } from '../logger.js';
import { RequestTracer, type ProviderFacts } from './request-tracer.js';
import { createSpanSink, type TracingSettings } from './span-sink.js';

export type { TracingSettings } from './span-sink.js';
export type { ProviderFacts } from './request-tracer.js';

/** Traces being recorded and exported: stop it on shutdown, and what was recorded is sent. */
export interface Tracing {
  /** Builds the spans of what finished and sends them (tests). */
  flush(): Promise<void>;
  /** Stops recording, sends what is left (bounded by the export timeout), and stops the exporter. */
  close(): Promise<void>;
}

/**
 * OpenTelemetry traces of a gateway's requests, exported over OTLP/HTTP: fed by the engine's
 * events, built off the request path, batched. Export failures are logged, never thrown.
 */
export function startTracing(settings: TracingSettings, deps: { events: EventBus; clock: Clock; logger: Logger; redact: (text: string) => string; providerOf(name: string): ProviderFacts | undefined }): Tracing {
  const sink = createSpanSink(settings, deps);
  const tracer = new RequestTracer({ events: deps.events, sink, clock: deps.clock, logger: deps.logger, providerOf: deps.providerOf });
  let closing: Promise<void> | undefined;
  return {
    async flush() {
      tracer.drain();
      await sink.flush();
    },
    close() {
      closing ??= (async () => {
        tracer.close();
        try {
          await sink.shutdown();
        } catch (error) {
          deps.logger.warn({ err: error instanceof Error ? deps.redact(error.message) : 'unknown' }, 'telemetry: the last spans could not be sent');
        }
      })();
      return closing;
    },
  };
}
