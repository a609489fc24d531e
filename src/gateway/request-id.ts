import { randomUUID } from 'node:crypto';

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client-given request id when it is a sane token (it ends up in logs and headers), else a new one. */
export function requestIdOf(given: unknown): string {
  if (typeof given === 'string' && safeId.test(given)) return given;
  return `req_${randomUUID().replaceAll('-', '')}`;
}
