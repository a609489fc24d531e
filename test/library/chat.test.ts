import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError, type ChatCompletionRequest, type GatewayEvents } from '../../src/index.js';
import { Cleanup, openAiProvider, startSim, twoTargetConfig } from '../helpers/gateway.js';
import { startLibraryGateway, twoSimGateway, waitFor } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask: ChatCompletionRequest = { model: 'chat', messages: [{ role: 'user', content: 'Hello' }] };

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('gateway.chat: retry and failover in process', () => {
  it('retries a 500 on the same target and succeeds there', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 500, times: 1 }] });
    const { response, served } = await gateway.chat(ask);
    expect(response.choices[0]?.message.content).toContain('Detour simulator');
    expect(served).toMatchObject({ route: 'chat', provider: 'primary', target: 'primary/gpt-4o-mini', upstreamCalls: 2, isFailover: false });
    expect(served.attempts.map((attempt) => [attempt.status, attempt.code])).toEqual([
      [500, 'UPSTREAM_SERVER_ERROR'],
      [200, undefined],
    ]);
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(0);
  });

  it('retries 529, then fails over to the backup', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 529 }] });
    const { response, served } = await gateway.chat(ask);
    expect(response.choices[0]?.message.content).toBe('from backup');
    expect(served).toMatchObject({ provider: 'backup', model: 'gpt-4o-mini', upstreamCalls: 3, isFailover: true, isDegraded: false });
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(1);
  });

  it('fails over on 401 without retrying that target', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 401 }] });
    const { served } = await gateway.chat(ask);
    expect(served.upstreamCalls).toBe(2);
    expect(served.attempts[0]?.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it("rejects an upstream's 400 as it is, never retried, no other target called", async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 400, error_code: 'invalid_value', error_message: "Invalid value for 'temperature'." }] });
    const error = await failure(gateway.chat(ask));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_value');
    expect(error.message).toContain("Invalid value for 'temperature'");
    expect(error.served?.attempts).toHaveLength(1);
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(0);
  });

  it('refuses an invalid request with the server’s validation, before any upstream call', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup);
    const error = await failure(gateway.chat({ model: 'chat', messages: [] }));
    expect(error).toMatchObject({ status: 400, code: 'INVALID_REQUEST', served: undefined });
    expect(error.body).toMatchObject({ error: { param: 'messages', type: 'invalid_request_error' } });
    const unknownRoute = await failure(gateway.chat({ ...ask, model: 'nope' }));
    expect(unknownRoute).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
    expect(primary.stats.requests).toBe(0);
  });

  it('a 429 fails over at once while the backup can answer', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { retry: { attempts: 2, backoff_ms: 5, max_backoff_ms: 1000 } });
    primary.setPlan({ faults: [{ status: 429, retry_after_ms: 150, times: 1 }] });
    const { served } = await gateway.chat(ask);
    expect(served.provider).toBe('backup');
    expect(served.attempts.map((attempt) => attempt.code)).toEqual(['UPSTREAM_RATE_LIMITED', undefined]);
    expect(primary.stats.requests).toBe(1);
    expect(backup.stats.requests).toBe(1);
  });

  it('a hung upstream costs at most attempt_timeout_ms before the next target', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup, { attempt_timeout_ms: 300 });
    primary.setPlan({ faults: [{ hang: true }] });
    const started = Date.now();
    const { served } = await gateway.chat(ask);
    const elapsed = Date.now() - started;
    expect(served.provider).toBe('backup');
    expect(served.attempts[0]?.code).toBe('UPSTREAM_ATTEMPT_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2500);
  });

  it('rejects with 504 DEADLINE_EXCEEDED when the deadline runs out, within the deadline', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { timeout_ms: 400, attempt_timeout_ms: 300 });
    primary.setPlan({ faults: [{ hang: true }] });
    backup.setPlan({ faults: [{ hang: true }] });
    const started = Date.now();
    const error = await failure(gateway.chat(ask));
    expect(error).toMatchObject({ status: 504, code: 'DEADLINE_EXCEEDED' });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('rejects with 503 listing every attempt, with no secret, when all targets are down', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { wait_for_recovery_ms: 0 });
    primary.setPlan({ faults: [{ status: 503 }] });
    backup.setPlan({ faults: [{ status: 401 }] });
    const error = await failure(gateway.chat(ask));
    expect(error).toMatchObject({ status: 503, code: 'ALL_TARGETS_FAILED' });
    expect(error.served?.attempts.map((attempt) => [attempt.target, attempt.status, attempt.code])).toEqual([
      ['primary/gpt-4o-mini', 503, 'UPSTREAM_OVERLOADED'],
      ['primary/gpt-4o-mini', 503, 'UPSTREAM_OVERLOADED'],
      ['backup/gpt-4o-mini', 401, 'UPSTREAM_AUTH_FAILED'],
    ]);
    expect(JSON.stringify(error.body)).not.toContain('sk-');
    expect(JSON.stringify(error.served)).not.toContain('sk-');
  });

  it('rejects with 429 and the server’s retry-after when every target is rate-limited', async () => {
    const { primary, backup, gateway } = await twoSimGateway(cleanup, { timeout_ms: 3000 });
    primary.setPlan({ faults: [{ status: 429, retry_after_s: 20 }] });
    backup.setPlan({ faults: [{ status: 429, retry_after_s: 7 }] });
    const error = await failure(gateway.chat(ask));
    expect(error.status).toBe(429);
    expect(error.headers['retry-after']).toBe('7');
    expect(error.retryAfterMs).toBe(7000);
  });

  it('addresses one target directly as provider/model only when server.direct_addressing is on', async () => {
    const off = await twoSimGateway(cleanup);
    expect((await failure(off.gateway.chat({ ...ask, model: 'backup/gpt-4o' }))).status).toBe(404);
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const config = twoTargetConfig(openAiProvider(primary), { ...openAiProvider(backup), models: ['gpt-4o'] });
    const gateway = cleanup.add(await startLibraryGateway({ ...config, server: { direct_addressing: true } }));
    const { response, served } = await gateway.chat({ ...ask, model: 'backup/gpt-4o' });
    expect(response.model).toBe('gpt-4o');
    expect(served.provider).toBe('backup');
    expect(primary.stats.requests).toBe(0);
  });

  it('aborts with the caller’s signal and cancels the upstream call', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ hang: true }] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await gateway.chat(ask, { signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
    const already = await gateway.chat(ask, { signal: AbortSignal.abort() }).catch((caught: unknown) => caught);
    expect((already as DOMException).name).toBe('AbortError');
  });

  it('ignores a `stream` flag on chat(): the method decides', async () => {
    const { gateway } = await twoSimGateway(cleanup);
    const { response } = await gateway.chat({ ...ask, stream: true });
    expect(response.object).toBe('chat.completion');
  });

  it('uses the caller’s request id when it is a sane token', async () => {
    const { gateway } = await twoSimGateway(cleanup);
    const { served } = await gateway.chat(ask, { requestId: 'order-42' });
    expect(served.requestId).toBe('order-42');
    const { served: fresh } = await gateway.chat(ask, { requestId: 'not a token\n' });
    expect(fresh.requestId).toMatch(/^req_[0-9a-f]{32}$/);
  });
});

describe('gateway events, breakers and target state', () => {
  it('emits the engine’s events: attempts, failover, request finished', async () => {
    const { primary, gateway } = await twoSimGateway(cleanup);
    primary.setPlan({ faults: [{ status: 401 }] });
    const seen: Array<[string, unknown]> = [];
    const record = <K extends keyof GatewayEvents>(type: K) => gateway.on(type, (payload) => seen.push([type, payload]));
    const stops = [record('attempt.failed'), record('failover.performed'), record('request.finished')];
    const { served } = await gateway.chat(ask);
    expect(seen.map(([type]) => type)).toEqual(['attempt.failed', 'failover.performed', 'request.finished']);
    expect(seen[1]?.[1]).toMatchObject({ requestId: served.requestId, from: 'primary/gpt-4o-mini', to: 'backup/gpt-4o-mini', code: 'UPSTREAM_AUTH_FAILED' });
    expect(seen[2]?.[1]).toMatchObject({ requestId: served.requestId, status: 200, target: 'backup/gpt-4o-mini', isFailover: true, format: 'openai' });
    for (const stop of stops) stop();
    await gateway.chat(ask);
    expect(seen).toHaveLength(3);
  });

  it('opens a dead target’s circuit, reports it, skips the target, and closes it after a probe', async () => {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const gateway = cleanup.add(
      await startLibraryGateway({
        // A cooldown long enough for five requests on a busy machine.
        breaker: { failure_threshold: 2, window_ms: 10_000, open_ms: 1500, max_open_ms: 3000, minimum_requests: 50 },
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 1 } } },
      }),
    );
    const transitions: string[] = [];
    gateway.on('circuit.opened', (event) => transitions.push(`opened ${event.target} (${event.reason})`));
    gateway.on('circuit.closed', (event) => transitions.push(`closed ${event.target} (${event.reason})`));
    expect(gateway.routes()).toEqual(['chat']);
    expect(gateway.targets().map((target) => [target.id, target.circuit])).toEqual([
      ['primary/m', 'closed'],
      ['backup/m', 'closed'],
    ]);

    primary.setPlan({ faults: [{ status: 503 }] });
    for (let i = 0; i < 2; i++) await gateway.chat(ask);
    const openedAt = Date.now();
    expect(transitions).toEqual(['opened primary/m (failure_count)']);
    expect(gateway.targets()[0]).toMatchObject({ id: 'primary/m', circuit: 'open', openReason: 'failure_count' });
    for (let i = 0; i < 5; i++) expect((await gateway.chat(ask)).served).toMatchObject({ provider: 'backup', upstreamCalls: 1 });
    expect(primary.stats.requests).toBe(2);

    primary.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, openedAt + 1550 - Date.now())));
    expect((await gateway.chat(ask)).served.provider).toBe('primary');
    await waitFor(() => gateway.targets()[0]?.circuit === 'closed');
    expect(transitions).toEqual(['opened primary/m (failure_count)', 'closed primary/m (probe_succeeded)']);
  });

  it('hedges a slow primary: the faster answer wins and the slow call is cancelled', async () => {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const gateway = cleanup.add(
      await startLibraryGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: { chat: { hedge: { after_ms: 100 }, targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }] } },
      }),
    );
    primary.setPlan({ faults: [{ latency_ms: 2000 }] });
    const started = Date.now();
    const { response, served } = await gateway.chat(ask);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(response.choices[0]?.message.content).toBe('from backup');
    expect(served.upstreamCalls).toBe(2);
    await waitFor(() => primary.stats.clientClosedCount === 1);
    expect(primary.stats.clientClosedCount).toBe(1);
  });

  it('answers from degrade_to, marked degraded, when every target of a route fails', async () => {
    const primary = cleanup.add(await startSim({ plan: { faults: [{ status: 503 }] } }));
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const gateway = cleanup.add(
      await startLibraryGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: {
          smart: { degrade_to: 'cheap', targets: [{ provider: 'primary', model: 'big' }], retry: { attempts: 1 } },
          cheap: { targets: [{ provider: 'backup', model: 'small' }] },
        },
      }),
    );
    const { response, served } = await gateway.chat({ ...ask, model: 'smart' });
    expect(response.model).toBe('small');
    expect(served).toMatchObject({ isDegraded: true, upstreamCalls: 2, provider: 'backup' });
  });

  it('refuses calls once closed', async () => {
    const { gateway } = await twoSimGateway(cleanup);
    await gateway.close();
    await expect(gateway.chat(ask)).rejects.toThrow(/closed/);
    await expect(gateway.fetch('http://detour.local/v1/models')).rejects.toThrow(/closed/);
    await gateway.close();
  });
});
