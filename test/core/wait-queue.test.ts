import { describe, expect, it } from 'vitest';
import { parsePriority, WaitQueue, type Priority } from '../../src/core/wait-queue.js';

function drain(queue: WaitQueue<{ name: string }>): string[] {
  const order: string[] = [];
  for (let head = queue.head(); head; head = queue.head()) {
    order.push(head.name);
    queue.leave(head);
  }
  return order;
}

describe('the wait queue', () => {
  it.each<{ arrivals: Array<[string, Priority]>; served: string[] }>([
    { arrivals: [['a', 'normal'], ['b', 'normal'], ['c', 'normal']], served: ['a', 'b', 'c'] },
    { arrivals: [['low1', 'low'], ['high1', 'high'], ['normal1', 'normal'], ['high2', 'high'], ['low2', 'low']], served: ['high1', 'high2', 'normal1', 'low1', 'low2'] },
    { arrivals: [['l', 'low'], ['n', 'normal'], ['h', 'high']], served: ['h', 'n', 'l'] },
  ])('serves by priority, first come first served within one: $served', ({ arrivals, served }) => {
    const queue = new WaitQueue<{ name: string }>(100);
    for (const [name, priority] of arrivals) expect(queue.enter({ name }, priority)).toBe(true);
    expect(drain(queue)).toEqual(served);
  });

  it('never lets a high request wait behind a low one, even one that came first', () => {
    const queue = new WaitQueue<{ name: string }>(10);
    const low = { name: 'low' };
    queue.enter(low, 'low');
    expect(queue.head()).toBe(low);
    const high = { name: 'high' };
    queue.enter(high, 'high');
    expect(queue.head()).toBe(high);
  });

  it('is bounded: one more than max is refused, and a place freed anywhere takes one more', () => {
    const queue = new WaitQueue<{ name: string }>(2);
    const first = { name: '1' };
    expect(queue.enter(first, 'low')).toBe(true);
    expect(queue.enter({ name: '2' }, 'high')).toBe(true);
    expect(queue.enter({ name: '3' }, 'high')).toBe(false);
    expect(queue.size).toBe(2);
    expect(queue.leave(first)).toBe(true);
    expect(queue.leave(first)).toBe(false);
    expect(queue.enter({ name: '4' }, 'normal')).toBe(true);
    expect(queue.depthBy()).toEqual({ high: 1, normal: 1, low: 0 });
  });

  it.each([
    ['high', 'high'],
    [' LOW ', 'low'],
    ['Normal', 'normal'],
    ['urgent', undefined],
    ['', undefined],
  ])('reads the priority %j as %s', (text, priority) => {
    expect(parsePriority(text)).toBe(priority);
  });
});
