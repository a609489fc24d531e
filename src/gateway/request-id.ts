import { randomBytes } from 'node:crypto';

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * New ids are this process's random prefix and a counter (32 hex digits in all, as before):
 * unique across a cluster (64 random bits per process) without drawing fresh randomness for
 * every request, which showed in profiles. An id names a request in logs and headers; it is not
 * a secret.
 */
const prefix = `req_${randomBytes(8).toString('hex')}`;
let counter = 0;

/** A client-given request id when it is a sane token (it ends up in logs and headers), else a new one. */
export function requestIdOf(given: unknown): string {
  if (typeof given === 'string' && safeId.test(given)) return given;
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}${counter.toString(16).padStart(16, '0')}`;
}
