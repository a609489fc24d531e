import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every Detour key starts so, which lets redaction and secret scanners recognise one. */
export const keyPrefix = 'dtr_';

/** A new key: `dtr_` and 256 random bits (base64url). Shown once; only its HMAC is kept. */
export function generateKey(): string {
  return `${keyPrefix}${randomBytes(32).toString('base64url')}`;
}

export function generateKeyId(): string {
  return `key_${randomBytes(8).toString('hex')}`;
}

/**
 * The key's HMAC-SHA256 under the server secret, hex. Without the secret a stolen database
 * yields nothing usable, and a key cannot be checked offline.
 */
export function hashKey(secret: string, key: string): string {
  return createHmac('sha256', secret).update(key).digest('hex');
}

/** Compares two hashes in constant time. */
export function isSameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** What a list may show of a key. */
export function displayPrefix(key: string): string {
  return key.slice(0, keyPrefix.length + 4);
}
