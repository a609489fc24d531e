import { expect, it } from 'vitest';
import { requestIdOf } from '../../src/gateway/request-id.js';

it('keeps a sane client id, replaces anything else with a fresh id of the documented shape, never the same twice', () => {
  expect(requestIdOf('trace-7:abc.def_1')).toBe('trace-7:abc.def_1');
  const fresh = [undefined, '', 'has space', 'x'.repeat(129), '<script>', 42].map((given) => requestIdOf(given));
  for (const id of fresh) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
  const many = new Set(Array.from({ length: 10_000 }, () => requestIdOf(undefined)));
  expect(many.size).toBe(10_000);
});
