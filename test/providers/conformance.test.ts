import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DetourError } from '../../src/core/errors.js';
import { adapters } from '../../src/providers/registry.js';
import type { ProviderAdapter, UpstreamRequest } from '../../src/providers/types.js';
import { anthropicCases } from './cases/anthropic.js';
import { decodeStream, fixtureEvents, fixtureJson } from './cases/fixtures.js';
import { geminiCases } from './cases/gemini.js';
import { openAiCases } from './cases/openai.js';
import { fixedNowMs, type AdapterCases, type ExpectedCall } from './cases/types.js';

/**
 * One conformance suite for every upstream adapter, fed by per-format case files: the same
 * checks, run over the project's provider answers (`test/fixtures/`) and exact outgoing bodies, with
 * every expectation written out. `fixture-answers.test.ts` runs content-independent checks over every
 * fixture, captured ones included.
 */
const casesByFormat: Record<string, AdapterCases[]> = { openai: openAiCases, anthropic: anthropicCases, gemini: geminiCases };

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: fixedNowMs });
});
afterAll(() => {
  vi.useRealTimers();
});

for (const [format, suites] of Object.entries(casesByFormat)) {
  describe(`${format} adapter`, () => it(`has conformance cases (test/providers/cases/${format}.ts)`, () => expect(suites.length).toBeGreaterThan(0)));
  for (const cases of suites) describe(`${cases.provider} adapter`, () => conformance(cases));
}

function adapterOf(providerType: string): ProviderAdapter {
  const adapter = adapters[providerType];
  if (!adapter) throw new Error(`no adapter is registered for provider type "${providerType}"`);
  return adapter;
}

function caught(run: () => unknown): DetourError {
  try {
    run();
  } catch (error) {
    if (error instanceof DetourError) return error;
    throw error;
  }
  throw new Error('expected a DetourError, but nothing was thrown');
}

function expectCall(actual: UpstreamRequest, expected: ExpectedCall): void {
  expect({ url: actual.url, method: actual.method, headers: actual.headers }).toStrictEqual({ url: expected.url, method: expected.method, headers: expected.headers });
  expect(JSON.parse(actual.body?.toString() ?? 'null')).toStrictEqual(expected.body);
}

function conformance(cases: AdapterCases): void {
  const adapter = adapterOf(cases.provider);
  const target = cases.target;

  describe('outgoing requests', () => {
    for (const testCase of cases.requests) {
      it(testCase.name, () => {
        // A case may aim at a sibling type (azure-openai beside openai): its own registered adapter builds it.
        const caseTarget = testCase.target ?? target;
        expectCall(adapterOf(caseTarget.provider.type).buildRequest(testCase.request, caseTarget, { stream: testCase.stream, wantStreamUsage: true }), testCase.expected);
      });
    }
    for (const testCase of cases.passThrough) {
      it(`pass-through: ${testCase.name}`, () => {
        expectCall(adapter.buildPassThroughRequest(testCase.body, target, { stream: testCase.stream, wantStreamUsage: true }), testCase.expected);
      });
    }
    it('the health probe lists models with the key', () => {
      expect(adapter.buildProbe(target)).toStrictEqual(cases.probe);
    });
  });

  describe('features the target cannot express are refused, never dropped', () => {
    // Every format has something another cannot express (OpenAI: a foreign format's own fields).
    it('has refusal cases', () => expect(cases.refused.length).toBeGreaterThan(0));
    for (const testCase of cases.refused) {
      it(testCase.name, () => {
        const error = caught(() => adapter.buildRequest(testCase.request, target, { stream: false, wantStreamUsage: true }));
        expect({ kind: error.kind, code: error.code }).toStrictEqual({ kind: testCase.expected.kind, code: testCase.expected.code });
        expect(error.message).toContain(testCase.expected.messageIncludes);
        if (error.kind !== 'fatal') expect(error.target).toBe(target.id);
      });
    }
  });

  describe('answers', () => {
    for (const testCase of cases.responses) {
      it(testCase.name, () => {
        const body = testCase.fixture !== undefined ? fixtureJson(testCase.fixture) : testCase.body;
        expect(adapter.parseResponse(body, target)).toStrictEqual(testCase.expected);
        expect(adapter.readUsage(body)).toStrictEqual(testCase.expected.usage);
      });
    }
    // Garbage under a 200 would be garbage again: another target, not the same one (and it counts against the breaker).
    it('a 200 that is not an answer is the upstream\'s fault, and fails over', () => {
      for (const body of [undefined, 'Service Unavailable', {}]) {
        const error = caught(() => adapter.parseResponse(body, target));
        expect({ kind: error.kind, code: error.code }).toStrictEqual({ kind: 'failover', code: 'UPSTREAM_BAD_RESPONSE' });
      }
    });
  });

  describe('streams', () => {
    for (const testCase of cases.streams) {
      const payloads = testCase.fixture !== undefined ? fixtureEvents(testCase.fixture) : (testCase.events ?? []);
      it(testCase.name, () => {
        const { chunks, isComplete } = decodeStream(adapter, cases.target, payloads);
        expect(chunks).toStrictEqual(testCase.expected);
        expect(isComplete).toBe(true);
      });
      if (payloads.length > 1) {
        it(`${testCase.name} — cut after its first event, it is not complete (the engine reports the interruption)`, () => {
          expect(decodeStream(adapter, cases.target, payloads, 1).isComplete).toBe(false);
        });
      }
    }
  });

  describe('errors', () => {
    for (const testCase of cases.errors) {
      it(testCase.name, () => {
        const bodyText = testCase.fixture !== undefined ? JSON.stringify(fixtureJson(testCase.fixture)) : JSON.stringify(testCase.body);
        const error = adapter.classifyError(testCase.status, testCase.headers ?? {}, bodyText, target, fixedNowMs);
        expect(error).toBeInstanceOf(DetourError);
        expect({ kind: error.kind, code: error.code, retryAfterMs: error.retryAfterMs }).toStrictEqual({
          kind: testCase.expected.kind,
          code: testCase.expected.code,
          retryAfterMs: testCase.expected.retryAfterMs,
        });
        expect(error.status).toBe(testCase.status);
        expect(error.target).toBe(target.id);
      });
    }
    it('a 5xx that is not even JSON (a proxy\'s HTML page) is retried', () => {
      const error = adapter.classifyError(502, {}, '<html><body>502 Bad Gateway</body></html>', target, fixedNowMs);
      expect({ kind: error.kind, status: error.status }).toStrictEqual({ kind: 'retryable', status: 502 });
    });
    it('the key never reaches an error message, even when the upstream echoes it', () => {
      const echoed = JSON.stringify({ error: { message: `Key ${target.apiKey} is not valid`, type: 'authentication_error', code: 401, status: 'UNAUTHENTICATED' } });
      const error = adapter.classifyError(401, {}, echoed, target, fixedNowMs);
      expect(error.kind).toBe('failover');
      expect(error.message).not.toContain(target.apiKey);
      expect(JSON.stringify(error.upstreamBody)).not.toContain(target.apiKey);
    });
  });
}
