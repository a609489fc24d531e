import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, RandomIdGenerator, TracerProvider, type IdGenerator, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../logger.js';

/** `telemetry:` as the tracer needs it. */
export interface TracingSettings {
  /** The OTLP/HTTP traces URL (`…/v1/traces`). */
  url: string;
  serviceName: string;
  serviceVersion?: string | undefined;
  /** Sent to the collector; secrets. */
  headers: Readonly<Record<string, string>>;
  sampleRatio: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  exportIntervalMs: number;
  exportTimeoutMs: number;
}

/**
 * Span and trace ids chosen by Detour: an upstream call's `traceparent` names its span before the
 * span object exists (spans are built off the request path, from events), so the id the SDK asks
 * for next is the one set here; otherwise a random one.
 */
export class PresetIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private spanId: string | undefined;
  private traceId: string | undefined;

  /** The ids of the very next span started (the SDK asks for its span id, then its trace id when it is a root). */
  preset(spanId: string, traceId: string): void {
    this.spanId = spanId;
    this.traceId = traceId;
  }

  generateSpanId(): string {
    const id = this.spanId ?? this.random.generateSpanId();
    this.spanId = undefined;
    return id;
  }

  generateTraceId(): string {
    const id = this.traceId ?? this.random.generateTraceId();
    this.traceId = undefined;
    return id;
  }
}

/** Where spans go: a tracer over a batching processor and the OTLP exporter. */
export interface SpanSink {
  tracer: Tracer;
  ids: PresetIds;
  /** Sends what is queued now. */
  flush(): Promise<void>;
  /** Sends what is queued, then stops. */
  shutdown(): Promise<void>;
}

/** The SDK's `ExportResultCode.SUCCESS`, without importing the package that declares it. */
const exportSucceeded = 0;
/** A collector that stays down is reported this often at most. */
const failureReportEveryMs = 60_000;

type ExportCallback = Parameters<SpanExporter['export']>[1];

/**
 * The exporter, watched: a failed export is logged (the first at once, then at most once a
 * minute with the count since), never thrown. The message never carries the collector headers.
 */
class ReportingExporter implements SpanExporter {
  private failures = 0;
  private lastReportAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly inner: SpanExporter,
    private readonly report: { clock: Clock; logger: Logger; redact: (text: string) => string; url: string },
  ) {}

  export(spans: ReadableSpan[], done: ExportCallback): void {
    this.inner.export(spans, (result) => {
      if (result.code !== exportSucceeded) this.failed(spans.length, result.error);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  private failed(count: number, error: Error | undefined): void {
    this.failures++;
    const now = this.report.clock.now();
    if (now - this.lastReportAt < failureReportEveryMs) return;
    this.lastReportAt = now;
    const message = this.report.redact(error?.message ?? 'unknown error');
    this.report.logger.warn({ collector: this.report.url, spans: count, failedExports: this.failures }, `telemetry: exporting spans failed (${message}); spans are dropped, requests are not affected`);
    this.failures = 0;
  }
}

/**
 * The OpenTelemetry SDK set up for Detour alone: its own provider (never registered globally, so
 * a library gateway leaves the application's OpenTelemetry as it was), every span that reaches it
 * recorded (sampling is decided with the trace context, before), batches of bounded size from a
 * bounded queue.
 */
export function createSpanSink(settings: TracingSettings, deps: { clock: Clock; logger: Logger; redact: (text: string) => string }): SpanSink {
  const exporter = new ReportingExporter(
    new OTLPTraceExporter({ url: settings.url, headers: { ...settings.headers }, timeoutMillis: settings.exportTimeoutMs }),
    { ...deps, url: shownUrl(settings.url, deps.redact) },
  );
  const processor = new BatchSpanProcessor({
    exporter,
    maxQueueSize: settings.maxQueueSize,
    maxExportBatchSize: settings.maxExportBatchSize,
    scheduledDelayMillis: settings.exportIntervalMs,
    exportTimeoutMillis: settings.exportTimeoutMs,
  });
  const ids = new PresetIds();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, ...(settings.serviceVersion ? { [ATTR_SERVICE_VERSION]: settings.serviceVersion } : {}) }),
    sampler: new AlwaysOnSampler(),
    idGenerator: ids,
    spanProcessors: [processor],
  });
  return {
    tracer: provider.getTracer('detour'),
    ids,
    flush: () => provider.forceFlush({ timeoutMillis: settings.exportTimeoutMs }),
    shutdown: () => provider.shutdown(),
  };
}

/** The collector's URL as logs may show it: no user info, no query (either may hold a token). */
function shownUrl(url: string, redact: (text: string) => string): string {
  try {
    const parsed = new URL(url);
    return redact(`${parsed.protocol}//${parsed.host}${parsed.pathname}`);
  } catch {
    return '(the collector)';
  }
}
