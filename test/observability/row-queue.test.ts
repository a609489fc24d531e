import { describe, expect, it } from 'vitest';
import { RowQueue, type RowChunk } from '../../src/observability/request-log/row-queue.js';

/** What the worker does with a chunk it is handed. */
function rowsOf(chunks: RowChunk[]): unknown[] {
  return chunks.flatMap((chunk) => JSON.parse(Buffer.from(chunk.bytes.buffer, 0, chunk.length).toString('utf8')) as unknown[]);
}

describe('RowQueue', () => {
  it('gives back every row as it was queued, in order, whatever its characters', () => {
    const queue = new RowQueue(1000);
    const rows = [
      [['req_1', 200, null, 1.5], []],
      [['héllo wörld', '日本語', '😀 emoji', 'quote " and \\ backslash', '\n\t'], [[1, 'x']]],
      [[JSON.parse('"\\ud800 lone surrogate"') as string], []],
    ];
    for (const row of rows) queue.push(JSON.stringify(row));
    expect(queue.length).toBe(3);
    const taken = queue.take(5000);
    expect(queue.length).toBe(0);
    expect(rowsOf(taken)).toEqual(rows);
  });

  it('closes a chunk at the batch size, so that a flush writes one batch at a time', () => {
    const queue = new RowQueue(10);
    for (let index = 0; index < 25; index++) queue.push(JSON.stringify([[index], []]));
    const first = queue.take(10);
    expect(first.map((chunk) => chunk.rows)).toEqual([10]);
    expect(rowsOf(first)).toEqual(Array.from({ length: 10 }, (_, index) => [[index], []]));
    // A backlog: more than one batch at a time, within the limit, never splitting a chunk.
    const rest = queue.take(25);
    expect(rest.map((chunk) => chunk.rows)).toEqual([10, 5]);
    expect(rowsOf(rest).length).toBe(15);
    expect(queue.length).toBe(0);
    expect(queue.take(10)).toEqual([]);
  });

  it('takes at least one chunk even when it holds more rows than asked for', () => {
    const queue = new RowQueue(100);
    for (let index = 0; index < 50; index++) queue.push('[[1],[]]');
    expect(queue.take(10).map((chunk) => chunk.rows)).toEqual([50]);
  });

  it('starts a chunk large enough for a row larger than a chunk, and keeps the rows around it', () => {
    const queue = new RowQueue(1000);
    const large = 'x'.repeat(1_500_000);
    queue.push(JSON.stringify([['small'], []]));
    queue.push(JSON.stringify([[large], []]));
    queue.push(JSON.stringify([['after'], []]));
    const taken = queue.take(5000);
    expect(taken.map((chunk) => chunk.rows)).toEqual([1, 2]);
    expect(rowsOf(taken)).toEqual([[['small'], []], [[large], []], [['after'], []]]);
  });

  it('counts what it drops when cleared', () => {
    const queue = new RowQueue(2);
    for (let index = 0; index < 5; index++) queue.push('[[1],[]]');
    expect(queue.clear()).toBe(5);
    expect(queue.length).toBe(0);
    expect(queue.take(10)).toEqual([]);
  });
});
