import { randomBytes } from 'node:crypto';

/** A new W3C span id: 16 hex digits, never all zero (the spec's invalid value). */
export function newSpanId(): string {
  for (;;) {
    const id = randomBytes(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}

/** A new W3C trace id: 32 hex digits, never all zero. */
export function newTraceId(): string {
  for (;;) {
    const id = randomBytes(16).toString('hex');
    if (id !== '00000000000000000000000000000000') return id;
  }
}
