import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const safeId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is a sane token, else a new one. */
export function requestIdFor(request: IncomingMessage): string {
  return requestIdOf(request.headers['x-request-id']);
}

/** A client-given request id when it is a sane token (it ends up in logs and headers), else a new one. */
export function requestIdOf(given: unknown): string {
  if (typeof given === 'string' && safeId.test(given)) return given;
  return `req_${randomUUID().replaceAll('-', '')}`;
}
