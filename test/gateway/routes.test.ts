import { describe, expect, it } from 'vitest';
import type { Handler } from '../../src/gateway/http.js';
import { Routes } from '../../src/gateway/routes.js';

const handler = (name: string): Handler => () => ({ status: 200, headers: {}, body: name });

describe('the route table', () => {
  const routes = new Routes()
    .post('/v1/chat/completions', handler('chat'))
    .get('/v1/models', handler('models'))
    .post('/v1beta/models/:action', handler('gemini'))
    .get('/v1beta/models/:model', handler('gemini-model'));

  it.each([
    ['POST', '/v1/chat/completions', 'found', {}],
    ['GET', '/v1/models', 'found', {}],
    ['GET', '/v1/chat/completions', 'wrong-method', undefined],
    ['POST', '/v1/models', 'wrong-method', undefined],
    ['GET', '/v2/models', 'not-found', undefined],
    ['POST', '/v1/chat/completions/', 'not-found', undefined],
    ['POST', '/v1beta/models/gemini-2.0-flash:generateContent', 'found', { action: 'gemini-2.0-flash:generateContent' }],
    ['GET', '/v1beta/models/gemini%2Dpro', 'found', { model: 'gemini-pro' }],
    ['DELETE', '/v1beta/models/x', 'wrong-method', undefined],
    ['POST', '/v1beta/models/', 'not-found', undefined],
    ['POST', '/v1beta/models/a/b', 'not-found', undefined],
  ] as const)('%s %s is %s', (method, path, type, params) => {
    const match = routes.match(method, path);
    expect(match.type).toBe(type);
    if (match.type === 'found') expect(match.params).toEqual(params);
  });

  it('refuses the same route twice, so that one endpoint cannot silently shadow another', () => {
    expect(() => new Routes().get('/healthz', handler('a')).get('/healthz', handler('b'))).toThrow(/defined twice/);
  });
});
