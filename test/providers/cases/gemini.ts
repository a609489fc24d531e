import { geminiErrorCases, geminiResponseCases, geminiStreamCases } from './gemini-answers.js';
import { geminiApiKey, geminiPassThroughCases, geminiRefusedCases, geminiRequestCases, geminiTarget } from './gemini-requests.js';
import type { AdapterCases } from './types.js';

export const geminiCases: AdapterCases[] = [
  {
    provider: 'gemini',
    target: geminiTarget,
    requests: geminiRequestCases,
    passThrough: geminiPassThroughCases,
    refused: geminiRefusedCases,
    responses: geminiResponseCases,
    streams: geminiStreamCases,
    errors: geminiErrorCases,
    probe: { url: 'https://generativelanguage.googleapis.com/v1beta/models', method: 'GET', headers: { 'x-goog-api-key': geminiApiKey } },
  },
];
