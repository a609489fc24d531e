import { describe, expect, it } from 'vitest';
import { mayStillOverlap, overlapLength, sumUsage } from '../../src/core/continuation.js';

describe('overlapLength', () => {
  const cases: Array<{ name: string; prefix: string; text: string; expected: number }> = [
    { name: 'a continuation that starts where the prefix stopped', prefix: 'Hello from the', text: ' Detour simulator.', expected: 0 },
    { name: 'one that repeats the prefix’s last words', prefix: 'Hello from the', text: 'from the Detour simulator.', expected: 8 },
    { name: 'one that repeats a word cut in the middle', prefix: 'Hello from the Det', text: 'Detour simulator.', expected: 3 },
    { name: 'the prefill lost its trailing space, the continuation writes it again', prefix: 'Hello from the ', text: ' Detour', expected: 1 },
    { name: 'two letters are the answer’s own, not a repetition', prefix: 'I said a', text: 'a cat', expected: 0 },
  ];
  it.each(cases)('$name', ({ prefix, text, expected }) => {
    expect(overlapLength(prefix, text)).toBe(expected);
  });

  it('waits while the continuation so far could still be a repetition', () => {
    expect(mayStillOverlap('Hello from the', 'fro')).toBe(true);
    expect(mayStillOverlap('Hello from the', ' Detour')).toBe(false);
  });

  it('sums both attempts’ usage', () => {
    expect(sumUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }, { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 })).toEqual({ prompt_tokens: 22, completion_tokens: 12, total_tokens: 34 });
    expect(sumUsage(undefined, { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })).toEqual({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
  });
});
