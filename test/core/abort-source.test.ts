import { describe, expect, it } from 'vitest';
import { abortSignalOf, LightAbort } from '../../src/core/abort-source.js';

describe('LightAbort', () => {
  it('calls each listener once with the reason set, and none added after or removed before the abort', () => {
    const abort = new LightAbort();
    const heard: unknown[] = [];
    const removed = (): void => void heard.push('removed');
    abort.addEventListener('abort', () => heard.push(abort.reason));
    abort.addEventListener('abort', removed);
    abort.removeEventListener('abort', removed);
    abort.abort('gone');
    abort.abort('again');
    abort.addEventListener('abort', () => heard.push('late'));
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe('gone');
    expect(heard).toEqual(['gone']);
  });
});

describe('abortSignalOf', () => {
  it('gives a real signal that follows the source, with its reason, before or after the abort', () => {
    const later = new LightAbort();
    const signal = abortSignalOf(later);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
    later.abort('client left');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('client left');

    const already = new LightAbort();
    already.abort('shutdown');
    expect(abortSignalOf(already).reason).toBe('shutdown');
  });

  it('returns an AbortSignal as it is', () => {
    const controller = new AbortController();
    expect(abortSignalOf(controller.signal)).toBe(controller.signal);
  });
});
