import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { seededRandom } from '../core/clock.js';
import { DetourError } from '../core/errors.js';
import { answer, defaultAnswerStyle, estimateTokens, toChunks, toResponse, type AnswerStyle } from './answer.js';
import type { IngressCodec } from '../providers/types.js';
import { simEndpoints, type SimEndpoint } from './endpoints.js';
import { simEmbeddingsFaces, type SimEmbeddingsFace } from './embeddings.js';
import { activeTimeline, drawLatency, faultPlanSchema, faultSchema, pickCeiling, pickFault, toMs, type Fault, type FaultInput, type FaultPlan } from './faults.js';
import { RateCeiling } from './rate-ceiling.js';
import { frameReplayEvents, type Replay } from './replay.js';
import { SimStats } from './stats.js';

export interface SimulatorOptions {
  /** What the simulated model says. */
  answer?: Partial<AnswerStyle>;
  /** Pause between two stream chunks. */
  chunkDelayMs?: number;
  /** Standing faults and a timeline, as accepted by `POST /_sim/faults`. */
  plan?: { faults?: FaultInput[]; timeline?: unknown[] };
  /** Seed for fault probabilities and latency draws; random when absent. */
  seed?: number;
  /** Models listed by the models endpoint (any model name is served). */
  models?: string[];
  /** Captured answers to play back instead of generated ones, by model (`*` for any). */
  replay?: Record<string, Replay>;
  /** Keep the last this many requests (path, query, headers, body) in `captured`, for tests that check what reached the upstream. */
  capture?: number;
}

/** One request as the simulator received it (kept only with the `capture` option). */
export interface CapturedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A fake LLM provider for demos, tests, drills and benchmarks: speaks the providers' wire formats,
 * answers deterministically, and misbehaves on script (errors, 429s, latency, hangs, stalls,
 * resets, refused connections), changeable at runtime through `/_sim/*`.
 */
export class Simulator {
  readonly stats = new SimStats();
  /** The last requests received, oldest first, with the `capture` option. */
  readonly captured: CapturedRequest[] = [];
  private readonly server: Server;
  private readonly style: AnswerStyle;
  private readonly random: () => number;
  private plan: FaultPlan = { faults: [], timeline: [] };
  private remaining = new Map<Fault, number>();
  private readonly ceiling = new RateCeiling();
  private timelineStartedAt = Date.now();
  private timelineTimers: NodeJS.Timeout[] = [];
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private host = '127.0.0.1';
  private isListening = false;
  /** While down, this holds the process: a standalone `detour sim` has no other handle, and would exit before coming back up. */
  private downHold: NodeJS.Timeout | undefined;
  private upTimer: NodeJS.Timeout | undefined;
  chunkDelayMs: number;

  constructor(private readonly options: SimulatorOptions = {}) {
    this.style = { ...defaultAnswerStyle, ...options.answer };
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
    this.random = options.seed === undefined ? Math.random : seededRandom(options.seed);
    this.server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
      this.handle(request, response).catch(() => response.destroy());
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    if (options.plan) this.setPlan(options.plan);
  }

  /** The root URL (`http://127.0.0.1:PORT`); OpenAI clients want `${url}/v1`. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.host = host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.isListening = true;
    return this.url;
  }

  async close(): Promise<void> {
    this.clearTimelineTimers();
    this.release();
    if (!this.isListening) {
      // Down with answers left to finish (`keepInFlight`): those connections go now.
      for (const socket of this.sockets) socket.destroy();
      return;
    }
    this.isListening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * Stops listening (connections are refused) and drops open connections; back up after `forMs` if given.
   * With `keepInFlight`, answers under way finish first, as on a host taken out of rotation rather
   * than one that crashed; a new request on a kept-alive connection is dropped all the same.
   */
  async down(forMs?: number, options: { keepInFlight?: boolean } = {}): Promise<void> {
    if (this.isListening) {
      this.isListening = false;
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      if (options.keepInFlight) {
        this.server.closeIdleConnections();
      } else {
        for (const socket of this.sockets) socket.destroy();
        await closed;
      }
    }
    this.downHold ??= setInterval(() => undefined, 2 ** 31 - 1);
    if (forMs !== undefined) {
      clearTimeout(this.upTimer);
      this.upTimer = setTimeout(() => void this.up(), forMs);
    }
  }

  async up(): Promise<void> {
    this.release();
    if (this.isListening) return;
    await this.listen(this.port, this.host);
  }

  private release(): void {
    clearInterval(this.downHold);
    clearTimeout(this.upTimer);
    this.downHold = undefined;
    this.upTimer = undefined;
  }

  get isUp(): boolean {
    return this.isListening;
  }

  /** Replaces the standing faults and timeline; the timeline's clock starts now. */
  setPlan(plan: { faults?: FaultInput[]; timeline?: unknown[] }): void {
    this.plan = faultPlanSchema.parse(plan);
    this.remaining = new Map();
    this.timelineStartedAt = Date.now();
    this.scheduleDownWindows();
  }

  addFault(fault: FaultInput): void {
    this.plan = { ...this.plan, faults: [...this.plan.faults, faultSchema.parse(fault)] };
  }

  clearFaults(): void {
    this.setPlan({});
  }

  reset(): void {
    this.clearFaults();
    this.stats.reset();
  }

  /** `down: true` timeline entries close the listener for their window: connections are really refused. */
  private scheduleDownWindows(): void {
    this.clearTimelineTimers();
    for (const entry of this.plan.timeline) {
      if (!entry.fault.down) continue;
      const start = toMs(entry.at);
      this.timelineTimers.push(setTimeout(() => void this.down(), start));
      if (entry.for !== undefined) this.timelineTimers.push(setTimeout(() => void this.up(), start + toMs(entry.for)));
    }
    for (const timer of this.timelineTimers) timer.unref();
  }

  private clearTimelineTimers(): void {
    for (const timer of this.timelineTimers) clearTimeout(timer);
    this.timelineTimers = [];
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Down, yet a connection kept alive from before carries a new request (`keepInFlight`): the host is gone for it too.
    if (!this.isListening) return void request.socket.destroy();
    const url = new URL(request.url ?? '/', 'http://sim');
    const method = request.method ?? 'GET';
    if (url.pathname.startsWith('/_sim/')) return this.control(method, url.pathname, request, response);
    if (method === 'POST' && url.pathname === '/v1/messages/count_tokens') return this.countTokens(request, response, url.searchParams);
    for (const face of simEmbeddingsFaces) {
      const matched = face.match(method, url.pathname, url.searchParams);
      if (matched) return this.embeddings(face, matched, request, response, url.searchParams);
    }
    for (const endpoint of simEndpoints) {
      const matched = endpoint.match(method, url.pathname, url.searchParams);
      if (matched) return this.chat(endpoint, matched, request, response, url.searchParams);
      if (method === 'GET' && url.pathname === endpoint.modelsPath && (endpoint.claims?.(request) ?? true)) {
        this.stats.recordProbe();
        return json(response, 200, endpoint.listModels(this.options.models ?? ['sim-small', 'sim-large']));
      }
    }
    request.resume();
    json(response, 404, { error: { message: `no such endpoint: ${method} ${url.pathname}`, type: 'not_found_error', code: 'not_found' } });
  }

  /**
   * What every call goes through before its answer: the body read, counted per model and key,
   * and the faults that apply (reset, hang, latency, error status). Undefined when a fault
   * already answered it.
   */
  private async begin(
    endpoint: SimEndpoint,
    matched: { model?: string; stream?: boolean },
    request: IncomingMessage,
    response: ServerResponse,
    query: URLSearchParams,
  ): Promise<{ body: unknown; model: string; apiKey: string; call: ReturnType<SimStats['begin']>; fault: Fault | undefined; extraHeaders: Record<string, string> } | undefined> {
    const raw = await readAll(request);
    this.keep(request, query, raw);
    const apiKey = endpoint.apiKey(request, query);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      this.sendError(endpoint, response, 400, 'invalid JSON body', 'UNKNOWN', apiKey);
      return undefined;
    }
    if (matched.model !== undefined && typeof body === 'object' && body !== null) {
      body = matched.stream === undefined ? { ...body, model: matched.model } : { ...body, model: matched.model, stream: matched.stream };
    }
    const model = typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string' ? (body as { model: string }).model : 'unknown';
    const call = this.stats.begin(model, apiKey);
    response.on('close', () => this.stats.end(call, response.writableFinished ? 'completed' : 'client_closed'));

    const limited = this.ceilingFor(endpoint, model, apiKey);
    if (limited && !limited.isAllowed) {
      this.stats.setStatus(call, 429);
      this.sendError(endpoint, response, 429, 'Rate limit reached for requests (simulated ceiling).', undefined, apiKey, undefined, limited.headers);
      return undefined;
    }
    const extraHeaders = limited?.headers ?? {};
    const fault = this.faultFor(request, model, apiKey);
    if (fault?.reset) {
      this.stats.setStatus(call, 0);
      request.socket.destroy();
      return;
    }
    if (fault?.hang) return; // hold the request open until the client gives up
    const latency = drawLatency(fault?.latency_ms, this.random);
    if (latency > 0 && !(await pause(latency, response))) return;
    if (fault?.status !== undefined) {
      this.stats.setStatus(call, fault.status);
      this.sendError(endpoint, response, fault.status, fault.error_message, fault.error_code, apiKey, fault);
      return undefined;
    }
    return { body, model, apiKey, call, fault, extraHeaders };
  }

  private async chat(endpoint: SimEndpoint, matched: { model?: string; stream?: boolean }, request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<void> {
    const started = await this.begin(endpoint, matched, request, response, query);
    if (!started) return;
    const { body, model, apiKey, call, fault, extraHeaders } = started;
    let inspection: { stream: boolean; wantsUsage: boolean };
    let canonical: ReturnType<SimEndpoint['codec']['toCanonical']>;
    let codec = endpoint.codec;
    try {
      inspection = codec.inspectRequest(body);
      if (endpoint.codecFor) codec = endpoint.codecFor(body as Record<string, unknown>);
      canonical = toCanonicalWithPrefill(endpoint, codec, body as Record<string, unknown>);
    } catch (error) {
      this.stats.setStatus(call, 400);
      return this.sendError(endpoint, response, 400, error instanceof Error ? error.message : 'invalid request', undefined, apiKey);
    }
    this.stats.setStatus(call, 200);
    const replay = this.options.replay?.[model] ?? this.options.replay?.['*'];
    if (replay && (inspection.stream ? replay.events : replay.json) !== undefined) return this.playBack(endpoint, response, replay, inspection.stream);
    const simAnswer = answer(canonical, this.style);
    if (!inspection.stream) {
      json(response, 200, codec.encodeResponse(toResponse(simAnswer)), { ...requestIdHeaders(), ...extraHeaders });
      return;
    }
    await this.stream(codec, response, toChunks(simAnswer, this.style.chunks), inspection.wantsUsage, fault, extraHeaders);
  }

  /** An embeddings call: deterministic vectors from (model, input), faults as for chat. */
  private async embeddings(face: SimEmbeddingsFace, matched: { model?: string; isBatch?: boolean }, request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<void> {
    const started = await this.begin(face.endpoint, { model: matched.model }, request, response, query);
    if (!started) return;
    const answered = face.answer(started.body, matched.model, matched);
    if ('error' in answered) {
      this.stats.setStatus(started.call, 400);
      return this.sendError(face.endpoint, response, 400, answered.error, undefined, started.apiKey);
    }
    this.stats.setStatus(started.call, 200);
    json(response, 200, answered.json, { ...requestIdHeaders(), ...started.extraHeaders });
  }

  private async playBack(endpoint: SimEndpoint, response: ServerResponse, replay: Replay, isStream: boolean): Promise<void> {
    if (!isStream) {
      json(response, 200, replay.json ?? '{}', requestIdHeaders());
      return;
    }
    response.writeHead(200, { 'content-type': endpoint.codec.streamContentType, 'cache-control': 'no-cache', ...requestIdHeaders() });
    for (const [index, text] of frameReplayEvents(endpoint.format, replay.events ?? []).entries()) {
      if (index > 0 && this.chunkDelayMs > 0 && !(await pause(this.chunkDelayMs, response))) return;
      if (response.destroyed) return;
      response.write(text);
    }
    response.end();
  }

  private async stream(codec: IngressCodec, response: ServerResponse, chunks: ReturnType<typeof toChunks>, wantsUsage: boolean, fault: Fault | undefined, extraHeaders: Record<string, string>): Promise<void> {
    response.writeHead(200, { 'content-type': codec.streamContentType, 'cache-control': 'no-cache', ...requestIdHeaders(), ...extraHeaders });
    // Real providers send a stream's headers at once, before the first token.
    response.flushHeaders();
    const encoder = codec.createStreamEncoder({ wantsUsage, route: 'sim' });
    let sent = 0;
    let flushed: Promise<void> = Promise.resolve();
    for (const chunk of chunks) {
      if (fault?.stall_after_chunks !== undefined && sent >= fault.stall_after_chunks) return; // silent, open
      if (fault?.reset_after_chunks !== undefined && sent >= fault.reset_after_chunks) {
        // Let the chunks already written reach the wire first, then drop the connection mid-answer.
        await flushed;
        response.socket?.destroy();
        return;
      }
      const text = encoder.encode(chunk);
      if (!text) continue;
      if (sent > 0 && this.chunkDelayMs > 0 && !(await pause(this.chunkDelayMs, response))) return;
      if (response.destroyed) return;
      flushed = new Promise((resolve) => response.write(text, () => resolve()));
      sent++;
    }
    response.end(encoder.end());
  }

  /** Anthropic's `count_tokens`: the simulator's own estimate of the prompt. */
  private async countTokens(request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<void> {
    const raw = await readAll(request);
    this.keep(request, query, raw);
    const body = safeJson(raw);
    if (typeof body !== 'object' || body === null) return json(response, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'invalid JSON body' } });
    const { messages, system, tools } = body as Record<string, unknown>;
    json(response, 200, { input_tokens: estimateTokens(JSON.stringify([system ?? '', messages ?? [], tools ?? []])) }, requestIdHeaders());
  }

  private keep(request: IncomingMessage, query: URLSearchParams, body: string): void {
    const limit = this.options.capture ?? 0;
    if (limit <= 0) return;
    const url = request.url ?? '/';
    const path = url.split('?')[0] ?? url;
    this.captured.push({ method: request.method ?? 'GET', path, query: query.toString(), headers: { ...request.headers }, body });
    if (this.captured.length > limit) this.captured.shift();
  }

  private faultFor(request: IncomingMessage, model: string, apiKey: string): Fault | undefined {
    const perRequest = request.headers['x-sim-fault'];
    if (typeof perRequest === 'string') {
      const parsed = faultSchema.safeParse(safeJson(perRequest));
      if (parsed.success) return parsed.data;
    }
    const context = { model, apiKey, elapsedMs: Date.now() - this.timelineStartedAt, random: this.random };
    const timeline = activeTimeline(this.plan.timeline, context.elapsedMs).filter((fault) => !fault.down);
    return pickFault(timeline, context, this.remaining) ?? pickFault(this.plan.faults, context, this.remaining);
  }

  /** The rate-limit ceiling's verdict on this request, when a `rate_limit_rpm` fault applies to it. */
  private ceilingFor(endpoint: SimEndpoint, model: string, apiKey: string): ReturnType<RateCeiling['check']> | undefined {
    const context = { model, apiKey, elapsedMs: Date.now() - this.timelineStartedAt, random: this.random };
    const fault = pickCeiling(activeTimeline(this.plan.timeline, context.elapsedMs), context) ?? pickCeiling(this.plan.faults, context);
    if (fault?.rate_limit_rpm === undefined) return undefined;
    return this.ceiling.check(apiKey, fault.rate_limit_rpm, fault.rate_limit_window_ms ?? 10_000, endpoint.format, Date.now());
  }

  private sendError(endpoint: SimEndpoint, response: ServerResponse, status: number, message: string | undefined, code: string | undefined, apiKey: string, fault?: Fault, extraHeaders: Record<string, string> = {}): void {
    const headers: Record<string, string> = { ...requestIdHeaders(), ...extraHeaders };
    if (fault?.retry_after_ms !== undefined) headers['retry-after-ms'] = String(fault.retry_after_ms);
    if (fault?.retry_after_s !== undefined) headers['retry-after'] = String(fault.retry_after_s);
    const body = endpoint.codec.encodeError({
      status,
      code: code ?? endpoint.errorCode(status),
      message: message ?? defaultMessage(status, apiKey),
      details: fault?.retry_after_s !== undefined ? { retry_after_s: fault.retry_after_s } : undefined,
    });
    json(response, status, body, headers);
  }

  private async control(method: string, path: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readAll(request);
    try {
      if (method === 'GET' && path === '/_sim/stats') return json(response, 200, this.stats.snapshot());
      if (method === 'GET' && path === '/_sim/faults') return json(response, 200, this.plan);
      if ((method === 'POST' || method === 'PUT') && path === '/_sim/faults') {
        this.setPlan((safeJson(raw) ?? {}) as FaultPlan);
        return json(response, 200, this.plan);
      }
      if (method === 'POST' && path === '/_sim/faults/add') {
        this.addFault(safeJson(raw) as FaultInput);
        return json(response, 200, this.plan);
      }
      if (method === 'DELETE' && path === '/_sim/faults') {
        this.clearFaults();
        return json(response, 200, this.plan);
      }
      if (method === 'POST' && path === '/_sim/reset') {
        this.reset();
        return json(response, 200, { ok: true });
      }
      if (method === 'POST' && path === '/_sim/down') {
        const forMs = (safeJson(raw) as { for_ms?: unknown } | undefined)?.for_ms;
        if (forMs !== undefined && (typeof forMs !== 'number' || !Number.isFinite(forMs) || forMs < 0)) return json(response, 400, { error: 'for_ms must be a number of milliseconds, 0 or more' });
        json(response, 200, { ok: true, for_ms: forMs ?? null });
        response.on('finish', () => void this.down(forMs ?? 30_000));
        return;
      }
    } catch (error) {
      const message = error instanceof DetourError || error instanceof Error ? error.message : String(error);
      return json(response, 400, { error: { message } });
    }
    json(response, 404, { error: { message: `unknown control endpoint ${method} ${path}` } });
  }
}

function defaultMessage(status: number, apiKey: string): string {
  if (status === 401) return `Incorrect API key provided: ${apiKey.slice(0, 3)}***${apiKey.slice(-4)}.`;
  if (status === 429) return 'Rate limit reached (simulated).';
  if (status === 503) return 'The server is overloaded (simulated).';
  return `Simulated failure (HTTP ${status}).`;
}

let requestCounter = 0;
function requestIdHeaders(): Record<string, string> {
  const id = `req_sim_${(requestCounter++).toString(36)}`;
  return { 'x-request-id': id, 'request-id': id };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed || response.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function readAll(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Waits, unless the client leaves first; false when it did. */
function pause(ms: number, response: ServerResponse): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      response.off('close', onClose);
      resolve(!response.destroyed);
    }, ms);
    response.once('close', onClose);
  });
}

function safeJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The request as canonical. Anthropic's final assistant message (a prefill) has no canonical
 * meaning for translation, so Detour's ingress refuses it; the simulator, which is the model,
 * takes it as the start of its answer, as Anthropic does.
 */
function toCanonicalWithPrefill(endpoint: SimEndpoint, codec: SimEndpoint['codec'], body: Record<string, unknown>): ReturnType<SimEndpoint['codec']['toCanonical']> {
  const messages = body.messages;
  const last: unknown = Array.isArray(messages) ? messages[messages.length - 1] : undefined;
  if (endpoint.format !== 'anthropic' || !Array.isArray(messages) || !last || typeof last !== 'object' || (last as { role?: unknown }).role !== 'assistant') {
    return codec.toCanonical(body);
  }
  const content = (last as { content?: unknown }).content;
  const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((part) => (part && typeof part === 'object' && 'text' in part ? String((part as { text: unknown }).text) : '')).join('') : '';
  const canonical = codec.toCanonical({ ...body, messages: messages.slice(0, -1) });
  return { ...canonical, messages: [...canonical.messages, { role: 'assistant', content: text }] };
}
