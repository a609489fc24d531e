import { describe, expect, it } from 'vitest';
import { newItemId } from '../../src/providers/responses/ingress-response.js';

describe('Responses API ids', () => {
  it('are the prefix and 24 hex digits, and never repeat across refills of the random pool', () => {
    // 4 KB of random bytes serve 341 ids: 10,000 ids cross the refill 29 times.
    const ids = Array.from({ length: 10_000 }, () => newItemId('resp'));
    for (const id of ids) expect(id).toMatch(/^resp_[0-9a-f]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(newItemId('msg')).toMatch(/^msg_[0-9a-f]{24}$/);
  });
});
