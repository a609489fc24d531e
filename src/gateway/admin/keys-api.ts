import { parseKeyDuration } from '../../auth/key-duration.js';
import type { KeyUsage } from '../../auth/key-guard.js';
import { KeyRequestError, type KeyRequest } from '../../auth/key-manager.js';
import { isJsonContentType } from '../../auth/request-policy.js';
import { keyJson, keyPeriods, keyPriorities, type KeyPeriod, type KeyPriority, type VirtualKey } from '../../auth/virtual-key.js';
import type { Clock } from '../../core/clock.js';
import type { Observability } from '../../observability/observability.js';
import { statsWindows } from '../../observability/stats/stats-tracker.js';
import type { FrontDoor } from '../front-door.js';
import { headerOf, type GatewayRequest, type GatewayResponse } from '../http.js';
import { adminError, adminJson } from './admin-http.js';

const maxBodyBytes = 16 * 1024;

/** Reads a small JSON object body, or the refusal to answer with. */
async function readJsonObject(request: GatewayRequest): Promise<Record<string, unknown> | GatewayResponse> {
  let value: unknown;
  if (request.body.type === 'parsed') {
    value = request.body.value;
  } else {
    let raw: Buffer | string;
    try {
      raw = await request.body.read(maxBodyBytes);
    } catch {
      return adminError(413, 'BODY_TOO_LARGE', `The body is larger than ${maxBodyBytes} bytes.`);
    }
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (text.length === 0) return {};
    if (!isJsonContentType(headerOf(request, 'content-type'))) return adminError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The body must be JSON (content-type: application/json).');
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return adminError(400, 'INVALID_JSON', 'The body must be a JSON object.');
}

function isResponse(value: Record<string, unknown> | GatewayResponse): value is GatewayResponse {
  return typeof (value as GatewayResponse).status === 'number' && 'headers' in value && 'body' in value;
}

/** `POST /admin/api/keys`'s body in the manager's terms; throws KeyRequestError naming the field at fault. */
export function keyRequestOf(body: Record<string, unknown>): KeyRequest {
  const known = new Set(['name', 'routes', 'rpm', 'tpm', 'max_parallel', 'budget_usd', 'period', 'expires', 'priority', 'upstream_keys']);
  for (const field of Object.keys(body)) if (!known.has(field)) throw new KeyRequestError(`${field}: unknown field (known: ${[...known].join(', ')})`, 400);
  const text = (field: string): string | undefined => {
    const value = body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new KeyRequestError(`${field}: expected a string`, 400);
    return value;
  };
  const number = (field: string): number | undefined => {
    const value = body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw new KeyRequestError(`${field}: expected a number`, 400);
    return value;
  };
  const list = (field: string): string[] | undefined => {
    const value = body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.length === 0 || value.length > 100 || !value.every((item) => typeof item === 'string')) throw new KeyRequestError(`${field}: expected a list of names`, 400);
    return value as string[];
  };
  const name = text('name');
  if (name === undefined) throw new KeyRequestError('name: required', 400);
  const period = text('period');
  if (period !== undefined && !(keyPeriods as readonly string[]).includes(period)) throw new KeyRequestError('period: expected day, week or month', 400);
  const priority = text('priority');
  if (priority !== undefined && !(keyPriorities as readonly string[]).includes(priority)) throw new KeyRequestError('priority: expected high, normal or low', 400);
  const expires = text('expires');
  const expiresInMs = expires === undefined ? undefined : parseKeyDuration(expires);
  if (expires !== undefined && (expiresInMs === undefined || expiresInMs <= 0)) throw new KeyRequestError('expires: expected a duration such as 90d, 12h or 2w', 400);
  return {
    name,
    routes: list('routes'),
    rpm: number('rpm'),
    tpm: number('tpm'),
    maxParallel: number('max_parallel'),
    budgetUsd: number('budget_usd'),
    period: period as KeyPeriod | undefined,
    priority: priority as KeyPriority | undefined,
    upstreamKeys: list('upstream_keys'),
    expiresInMs,
  };
}

/**
 * `/admin/api/keys`: create, list, show, revoke and rotate virtual keys, each with its live use
 * (spend in the period, requests and errors, headroom under each limit). A key's secret is in
 * the answer of `create` and `rotate` only.
 */
export class KeysApi {
  constructor(
    private readonly door: FrontDoor,
    private readonly observability: Observability,
    private readonly clock: Clock,
  ) {}

  list = async (): Promise<GatewayResponse> => {
    const stored = this.door.manager ? await this.door.manager.list() : [];
    const keys = [...this.door.directory.configKeys(), ...stored];
    return adminJson(200, { auth_mode: this.door.guard ? 'keys' : 'none', data: await Promise.all(keys.map((key) => this.detail(key))) });
  };

  create = async (request: GatewayRequest, actor: string): Promise<GatewayResponse> => {
    const manager = this.door.manager;
    if (!manager) return this.noManager();
    const body = await readJsonObject(request);
    if (isResponse(body)) return body;
    return this.answer(async () => {
      const { key, secret } = await manager.create(keyRequestOf(body), actor);
      return [201, { ...(await this.detail(key)), key: secret }];
    });
  };

  show = async (id: string): Promise<GatewayResponse> => {
    const configured = this.door.directory.configKeys().find((key) => key.id === id);
    if (configured) return adminJson(200, await this.detail(configured));
    const manager = this.door.manager;
    if (!manager) return this.noManager();
    return this.answer(async () => [200, await this.detail(await manager.show(id))]);
  };

  revoke = async (id: string, actor: string): Promise<GatewayResponse> => {
    const manager = this.door.manager;
    if (!manager) return this.noManager();
    return this.answer(async () => [200, await this.detail(await manager.revoke(id, actor))]);
  };

  rotate = async (request: GatewayRequest, id: string, actor: string): Promise<GatewayResponse> => {
    const manager = this.door.manager;
    if (!manager) return this.noManager();
    const body = await readJsonObject(request);
    if (isResponse(body)) return body;
    return this.answer(async () => {
      const overlapText = body.overlap;
      if (overlapText !== undefined && typeof overlapText !== 'string') throw new KeyRequestError('overlap: expected a duration such as 24h', 400);
      const overlapMs = overlapText === undefined ? 0 : parseKeyDuration(overlapText);
      if (overlapMs === undefined) throw new KeyRequestError('overlap: expected a duration such as 24h', 400);
      const rotated = await manager.rotate(id, overlapMs, actor);
      return [200, { ...(await this.detail(rotated.key)), key: rotated.secret, previous_key_expires_at: new Date(rotated.previousExpiresAt).toISOString() }];
    });
  };

  /** Refreshes the per-key gauges of /metrics from the state store (bounded to the first thousand keys). */
  async refreshMetrics(): Promise<void> {
    const guard = this.door.guard;
    if (!guard) return;
    const stored = this.door.manager ? await this.door.manager.list().catch(() => []) : [];
    const now = this.clock.now();
    const keys = [...this.door.directory.configKeys(), ...stored].filter((key) => key.revokedAt === undefined && (key.expiresAt === undefined || key.expiresAt > now)).slice(0, 1000);
    const metrics = this.observability.metrics;
    await Promise.all(
      keys.map(async (key) => {
        const usage = await guard.usage(key).catch((): KeyUsage => ({}));
        if (key.budgetUsd !== undefined && key.period !== undefined) {
          metrics.clientKeyBudget.set({ client_key: key.name, period: key.period }, key.budgetUsd);
          metrics.clientKeySpend.set({ client_key: key.name }, usage.spentUsd ?? 0);
        }
        const limits: Array<[string, number | undefined, number | undefined]> = [
          ['rpm', key.rpm, usage.requestsLastMinute],
          ['tpm', key.tpm, usage.tokensLastMinute],
          ['max_parallel', key.maxParallel, usage.inFlight],
        ];
        for (const [limit, value, used] of limits) {
          if (value === undefined) continue;
          metrics.clientKeyLimit.set({ client_key: key.name, limit }, value);
          metrics.clientKeyUsage.set({ client_key: key.name, limit }, used ?? 0);
        }
      }),
    );
  }

  private async detail(key: VirtualKey): Promise<Record<string, unknown>> {
    const now = this.clock.now();
    const usage = this.door.guard ? await this.door.guard.usage(key).catch((): KeyUsage => ({})) : {};
    const day = this.observability.stats.summary('key', key.name, statsWindows['24h']);
    const headroom = (limit: number | undefined, used: number | undefined): number | null => (limit === undefined ? null : Math.max(0, limit - (used ?? 0)));
    return {
      ...keyJson(key, now),
      usage: {
        spent_usd: usage.spentUsd ?? null,
        budget_remaining_usd: key.budgetUsd === undefined ? null : Math.max(0, key.budgetUsd - (usage.spentUsd ?? 0)),
        period_resets_at: usage.periodEnd === undefined ? null : new Date(usage.periodEnd).toISOString(),
        requests_last_minute: usage.requestsLastMinute ?? null,
        tokens_last_minute: usage.tokensLastMinute ?? null,
        in_flight: usage.inFlight ?? null,
        headroom: { rpm: headroom(key.rpm, usage.requestsLastMinute), tpm: headroom(key.tpm, usage.tokensLastMinute), max_parallel: headroom(key.maxParallel, usage.inFlight) },
      },
      last_24h: {
        requests: day?.requests ?? 0,
        errors: day?.failures ?? 0,
        cost_usd: day ? day.cost.success_usd + day.cost.failed_usd + day.cost.hedge_usd + day.cost.mirror_usd : 0,
      },
    };
  }

  private noManager(): GatewayResponse {
    return adminError(409, 'KEY_STORE_UNAVAILABLE', this.door.hasSecret ? 'The key store could not be opened.' : 'Stored keys need a secret: set auth.secret (or DETOUR_AUTH_SECRET).');
  }

  private async answer(run: () => Promise<[number, unknown]>): Promise<GatewayResponse> {
    try {
      const [status, body] = await run();
      return adminJson(status, body);
    } catch (error) {
      if (error instanceof KeyRequestError) return adminError(error.status, error.status === 404 ? 'NOT_FOUND' : error.status === 409 ? 'CONFLICT' : 'INVALID_REQUEST', error.message);
      throw error;
    }
  }
}
