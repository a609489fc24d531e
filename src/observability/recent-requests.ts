import type { AttemptRecord } from '../core/events.js';
import type { RequestOutcome } from './outcome.js';
import { continuationOf, type LoggedRequest } from './request-log/log-query.js';

type Text = string | undefined;

const isStream = 1;
const isFailover = 2;
const isDegraded = 4;
const hasTokens = 8;
/** The attempts are in `attemptLists` (none, or more than one); otherwise the one attempt is in the columns. */
const isListed = 16;

const noAttempts: readonly AttemptRecord[] = [];

/** Offsets of a slot's numbers. */
const N = {
  startedAt: 0,
  status: 1,
  latencyMs: 2,
  ttftMs: 3,
  queueWaitMs: 4,
  inputTokens: 5,
  outputTokens: 6,
  cachedTokens: 7,
  successUsd: 8,
  failedUsd: 9,
  hedgeUsd: 10,
  mirrorUsd: 11,
  attemptStatus: 12,
  attemptDurationMs: 13,
  attemptRetryAfterMs: 14,
} as const;
const numberFields = 15;

/** Offsets of a slot's names and messages. */
const T = {
  requestId: 0,
  route: 1,
  clientKeyId: 2,
  format: 3,
  target: 4,
  provider: 5,
  model: 6,
  errorCode: 7,
  errorMessage: 8,
  priority: 9,
  attemptTarget: 10,
  attemptProvider: 11,
  attemptModel: 12,
  attemptCode: 13,
  attemptKind: 14,
  attemptRole: 15,
} as const;
const textFields = 16;

/**
 * The last few hundred requests in memory, in the request log's shape: the dashboard's recent
 * requests work with the request log turned off, and cost no disk read. Each is kept as it
 * came and put in the log's shape only when read: every request is recorded, few are read.
 *
 * Kept in columns (numbers in typed arrays, names as references to the strings the config and
 * the engine already hold), not an object per request: a request stays here longer than two
 * young-generation collections, so an object per request (with its attempts, tokens and cost)
 * was promoted to old space as garbage, about 550 bytes a request and half of all the gateway
 * promoted under load. A request with one attempt (nearly all) keeps that attempt in the
 * columns too; only the others keep their list.
 */
export class RecentRequests {
  private next = 0;
  private count = 0;
  private readonly flags: Uint8Array;
  private readonly numbers: Float64Array;
  private readonly texts: Text[];
  private readonly attemptLists: Array<readonly AttemptRecord[] | undefined>;

  constructor(private readonly capacity = 200) {
    this.flags = new Uint8Array(capacity);
    this.numbers = new Float64Array(capacity * numberFields);
    this.texts = new Array<Text>(capacity * textFields).fill(undefined);
    this.attemptLists = new Array<readonly AttemptRecord[] | undefined>(capacity).fill(undefined);
  }

  record(outcome: RequestOutcome): void {
    const slot = this.next;
    const n = slot * numberFields;
    const t = slot * textFields;
    const { numbers, texts } = this;
    const tokens = outcome.tokens;
    const attempts = outcome.attempts;
    const single = attempts.length === 1 ? attempts[0] : undefined;
    this.flags[slot] =
      (outcome.stream ? isStream : 0) | (outcome.isFailover ? isFailover : 0) | (outcome.isDegraded ? isDegraded : 0) | (tokens ? hasTokens : 0) | (single ? 0 : isListed);
    numbers[n + N.startedAt] = outcome.startedAt;
    numbers[n + N.status] = outcome.status;
    numbers[n + N.latencyMs] = outcome.latencyMs;
    numbers[n + N.ttftMs] = outcome.ttftMs ?? Number.NaN;
    numbers[n + N.queueWaitMs] = outcome.queueWaitMs ?? Number.NaN;
    numbers[n + N.inputTokens] = tokens?.input ?? 0;
    numbers[n + N.outputTokens] = tokens?.output ?? 0;
    numbers[n + N.cachedTokens] = tokens?.cachedInput ?? 0;
    numbers[n + N.successUsd] = outcome.cost.successUsd ?? Number.NaN;
    numbers[n + N.failedUsd] = outcome.cost.failedUsd;
    numbers[n + N.hedgeUsd] = outcome.cost.hedgeUsd;
    numbers[n + N.mirrorUsd] = outcome.cost.mirrorUsd;
    texts[t + T.requestId] = outcome.requestId;
    texts[t + T.route] = outcome.route;
    texts[t + T.clientKeyId] = outcome.clientKeyId;
    texts[t + T.format] = outcome.format;
    texts[t + T.target] = outcome.target;
    texts[t + T.provider] = outcome.provider;
    texts[t + T.model] = outcome.model;
    texts[t + T.errorCode] = outcome.errorCode;
    texts[t + T.errorMessage] = outcome.errorMessage;
    texts[t + T.priority] = outcome.priority;
    if (single) {
      this.attemptLists[slot] = undefined;
      numbers[n + N.attemptStatus] = single.status ?? Number.NaN;
      numbers[n + N.attemptDurationMs] = single.durationMs;
      numbers[n + N.attemptRetryAfterMs] = single.retryAfterMs ?? Number.NaN;
      texts[t + T.attemptTarget] = single.target;
      texts[t + T.attemptProvider] = single.provider;
      texts[t + T.attemptModel] = single.model;
      texts[t + T.attemptCode] = single.code;
      texts[t + T.attemptKind] = single.kind;
      texts[t + T.attemptRole] = single.role;
    } else {
      // A copy of the list, not of the records: a hedge's loser may still add its record to the run's list later.
      this.attemptLists[slot] = attempts.length === 0 ? noAttempts : attempts.slice();
    }
    this.next = (slot + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Newest first. */
  latest(limit: number): LoggedRequest[] {
    const count = Math.min(Math.max(0, limit), this.count);
    const newestFirst: LoggedRequest[] = [];
    for (let index = 1; index <= count; index++) newestFirst.push(this.read((this.next - index + this.capacity) % this.capacity));
    return newestFirst;
  }

  private read(slot: number): LoggedRequest {
    const n = slot * numberFields;
    const t = slot * textFields;
    const { numbers, texts } = this;
    const flags = this.flags[slot] ?? 0;
    const number = (field: number): number => numbers[n + field] ?? Number.NaN;
    const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);
    const text = (field: number): Text => texts[t + field];
    const listed = (flags & isListed) !== 0 ? (this.attemptLists[slot] ?? noAttempts) : undefined;
    const orUndefined = (value: number): number | undefined => (Number.isNaN(value) ? undefined : value);
    const attempts = (
      listed ?? [
        {
          target: text(T.attemptTarget) ?? '',
          provider: text(T.attemptProvider) ?? '',
          model: text(T.attemptModel) ?? '',
          status: orUndefined(number(N.attemptStatus)),
          code: text(T.attemptCode) as AttemptRecord['code'],
          kind: text(T.attemptKind) as AttemptRecord['kind'],
          durationMs: number(N.attemptDurationMs),
          retryAfterMs: orUndefined(number(N.attemptRetryAfterMs)),
          role: text(T.attemptRole) as AttemptRecord['role'],
        },
      ]
    ).map(loggedAttempt);
    const ttft = number(N.ttftMs);
    const queueWait = number(N.queueWaitMs);
    return {
      id: text(T.requestId) ?? '',
      time: new Date(number(N.startedAt)).toISOString(),
      route: text(T.route) ?? '',
      client_key_id: text(T.clientKeyId) ?? null,
      format: text(T.format) as LoggedRequest['format'],
      stream: (flags & isStream) !== 0,
      target: text(T.target) ?? null,
      provider: text(T.provider) ?? null,
      model: text(T.model) ?? null,
      status: number(N.status),
      error_code: text(T.errorCode) ?? null,
      error_message: text(T.errorMessage) ?? null,
      failover: (flags & isFailover) !== 0,
      degraded: (flags & isDegraded) !== 0,
      latency_ms: Math.round(number(N.latencyMs)),
      ttft_ms: Number.isNaN(ttft) ? null : Math.round(ttft),
      usage: (flags & hasTokens) !== 0 ? { input_tokens: number(N.inputTokens), output_tokens: number(N.outputTokens), cached_tokens: number(N.cachedTokens) } : null,
      cost_usd: orNull(number(N.successUsd)),
      extra_cost_usd: { failed: number(N.failedUsd), hedge: number(N.hedgeUsd), mirror: number(N.mirrorUsd) },
      priority: (text(T.priority) as LoggedRequest['priority']) ?? null,
      queue_wait_ms: Number.isNaN(queueWait) ? null : Math.round(queueWait),
      continuation: continuationOf(attempts),
      attempts,
    };
  }
}

function loggedAttempt(attempt: AttemptRecord): LoggedRequest['attempts'][number] {
  return {
    target: attempt.target,
    provider: attempt.provider,
    model: attempt.model,
    status: attempt.status ?? null,
    error_code: attempt.code ?? null,
    kind: attempt.kind ?? null,
    duration_ms: Math.round(attempt.durationMs),
    retry_after_ms: attempt.retryAfterMs ?? null,
    role: attempt.role ?? null,
  };
}
