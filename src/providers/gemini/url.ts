import type { Target } from '../../core/settings.js';

/**
 * The API root for a configured base URL. Operators paste either the host
 * (`https://generativelanguage.googleapis.com`) or the versioned root the docs show
 * (`…/v1beta/`); both must reach `v1beta`, the version that has `systemInstruction`,
 * `parametersJsonSchema` and `responseJsonSchema`.
 */
export function geminiApiRoot(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return /\/v1(alpha|beta)?$/.test(trimmed) ? trimmed : `${trimmed}/v1beta`;
}

/**
 * The resource name of a model: `models/gemini-2.5-flash` from `gemini-2.5-flash`. A name that
 * already has a collection (`models/…`, `tunedModels/…`) is used as it is.
 */
export function geminiModelResource(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

/** `:generateContent`, or `:streamGenerateContent?alt=sse` (without `alt=sse` the stream is a JSON array, not SSE). */
export function geminiGenerateUrl(target: Target, stream: boolean): string {
  const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return `${geminiApiRoot(target.provider.baseUrl)}/${geminiModelResource(target.model)}:${method}`;
}

export function geminiModelsUrl(target: Target): string {
  return `${geminiApiRoot(target.provider.baseUrl)}/models`;
}

/** The key goes in a header rather than `?key=`, so that it never lands in a URL that gets logged. */
export function geminiHeaders(target: Target): Record<string, string> {
  return { ...target.provider.headers, ...(target.apiKey ? { 'x-goog-api-key': target.apiKey } : {}) };
}
