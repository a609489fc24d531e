import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON export carried it, its attributes decoded to plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's enum: 2 SERVER, 3 CLIENT. */
  kind: number;
  startMs: number;
  endMs: number;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
type OtlpAttribute = { key: string; value: OtlpValue };

export const spanKind = { server: 2, client: 3 } as const;

/**
 * A stand-in OpenTelemetry collector on 127.0.0.1: accepts `POST /v1/traces` in OTLP/HTTP JSON
 * (what `@opentelemetry/exporter-trace-otlp-http` sends), decodes every span, and keeps the
 * request headers and raw bodies; `failWith` makes it answer errors instead.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
  /** Answer exports with this status instead of 200. */
  failWith: number | undefined;
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ path: request.url ?? '', headers: request.headers, body });
        if (this.failWith !== undefined) {
          response.writeHead(this.failWith, { 'content-type': 'application/json' }).end('{"code":14,"message":"unavailable"}');
          return;
        }
        if (request.method !== 'POST' || request.url !== '/v1/traces' || !String(request.headers['content-type']).startsWith('application/json')) {
          response.writeHead(415).end();
          return;
        }
        this.spans.push(...decodeExport(JSON.parse(body) as unknown));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }
}

function decodeExport(payload: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  const resourceSpans = (payload as { resourceSpans?: unknown[] }).resourceSpans ?? [];
  for (const entry of resourceSpans as Array<{ resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: Array<{ spans?: unknown[] }> }>) {
    const resource = attributesOf(entry.resource?.attributes);
    for (const scope of entry.scopeSpans ?? []) {
      for (const raw of (scope.spans ?? []) as Array<Record<string, unknown>>) {
        spans.push({
          traceId: String(raw.traceId),
          spanId: String(raw.spanId),
          parentSpanId: typeof raw.parentSpanId === 'string' && raw.parentSpanId !== '' ? raw.parentSpanId : undefined,
          name: String(raw.name),
          kind: Number(raw.kind),
          startMs: Number(BigInt(String(raw.startTimeUnixNano)) / 1_000_000n),
          endMs: Number(BigInt(String(raw.endTimeUnixNano)) / 1_000_000n),
          statusCode: Number((raw.status as { code?: number } | undefined)?.code ?? 0),
          attributes: attributesOf(raw.attributes as OtlpAttribute[] | undefined),
          resource,
        });
      }
    }
  }
  return spans;
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) attributes[key] = valueOf(value);
  return attributes;
}

function valueOf(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}
