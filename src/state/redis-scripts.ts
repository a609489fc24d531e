import { createHash } from 'node:crypto';

/**
 * The Lua scripts of the Redis store. Each touches a single key, so that every one of them runs
 * unchanged on Redis Cluster; each is atomic on the server, which is what makes two instances
 * unable to take the same half-open probe or lease.
 *
 * Time: every expiry is judged by the `now` the caller passes (the store's injected clock), as
 * the `StateStore` contract asks; `PEXPIRE` is set only so that abandoned keys are collected.
 */

/**
 * Compare-and-set of a versioned state (a hash `{v, s}`), then publish the change.
 * KEYS[1] the state's key; ARGV[1] the version the caller read ('0' for a missing key),
 * ARGV[2] the new state's JSON, ARGV[3] the channel, ARGV[4] the message body.
 * Returns {1, newVersion} when written, {0, currentVersion, currentJson} when the caller's
 * version is stale: the caller re-runs its transition on what it got back.
 *
 * Versions come from the server's clock in microseconds, at least one above the last: they only
 * grow, even across a restart that lost the data, so a mirror can order what it hears by version
 * alone. (A server whose clock steps back across such a restart would have its first writes of a
 * key ignored by mirrors that knew a later version, until the key is written again; NTP slews
 * rather than steps for small errors.) `string.format('%.0f')` because Lua's `tostring` would
 * round 16 digits.
 */
const compareAndSetSource = `
local current = redis.call('HGET', KEYS[1], 'v')
if not current then current = '0' end
if current ~= ARGV[1] then
  return {0, current, redis.call('HGET', KEYS[1], 's')}
end
local time = redis.call('TIME')
local version = math.max(tonumber(current) + 1, tonumber(time[1]) * 1000000 + tonumber(time[2]))
local text = string.format('%.0f', version)
redis.call('HSET', KEYS[1], 'v', text, 's', ARGV[2])
redis.call('PUBLISH', ARGV[3], text .. '\\n' .. ARGV[4])
return {1, text}
`;

/**
 * Takes or renews a lease (a hash `{h, e}`) unless another holder's is still running at now.
 * KEYS[1] the lease; ARGV[1] holder, ARGV[2] now, ARGV[3] expiresAt, ARGV[4] the collection TTL (ms).
 * Returns 1 when the holder holds the lease afterwards, 0 otherwise.
 */
const acquireLeaseSource = `
local holder = redis.call('HGET', KEYS[1], 'h')
if holder and holder ~= ARGV[1] then
  local expires = tonumber(redis.call('HGET', KEYS[1], 'e'))
  if expires and expires > tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

/** Deletes a lease if ARGV[1] holds it. */
const releaseLeaseSource = `
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * A bucketed sliding-window counter (a hash: bucket start → count), the same arithmetic as
 * `core/sliding-window.ts`: drops buckets that ended before now − window, optionally adds, and
 * returns the window's total as a string (a Lua number would be truncated to an integer reply).
 * KEYS[1] the counter; ARGV[1] now, ARGV[2] windowMs, ARGV[3] bucketMs, ARGV[4] amount (0 reads),
 * ARGV[5] the bucket's start, ARGV[6] the collection TTL (ms), ARGV[7] '1' to count into the
 * newest bucket when it starts at or after ARGV[5] (a clock stepped back), '0' to add exactly
 * there (replaying counts made while Redis was away).
 */
const counterSource = `
local now = tonumber(ARGV[1])
local bucketMs = tonumber(ARGV[3])
local oldestLiveEnd = now - tonumber(ARGV[2])
local amount = tonumber(ARGV[4])
local start = tonumber(ARGV[5])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
local newest = nil
local newestField = nil
for i = 1, #fields, 2 do
  local bucket = tonumber(fields[i])
  if bucket == nil or bucket + bucketMs <= oldestLiveEnd then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    total = total + tonumber(fields[i + 1])
    if newest == nil or bucket > newest then
      newest = bucket
      newestField = fields[i]
    end
  end
end
if amount ~= 0 and start + bucketMs > oldestLiveEnd then
  local field = ARGV[5]
  if ARGV[7] == '1' and newest ~= nil and newest >= start then field = newestField end
  redis.call('HINCRBYFLOAT', KEYS[1], field, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  total = total + amount
end
return tostring(total)
`;

/** What a script needs of a connection: ioredis's `Redis` and `Cluster` both fit. */
export interface ScriptRunner {
  evalsha(sha: string, keyCount: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(source: string, keyCount: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/** A Lua script sent by its SHA1, and in full only when the server does not know it (first use, or after a restart). */
export class RedisScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: ScriptRunner, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export const scripts = {
  compareAndSet: new RedisScript(compareAndSetSource),
  acquireLease: new RedisScript(acquireLeaseSource),
  releaseLease: new RedisScript(releaseLeaseSource),
  counter: new RedisScript(counterSource),
} as const;
