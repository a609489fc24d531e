import type { Target } from '../../core/settings.js';
import type { UpstreamRequest } from '../types.js';

/** The API version header the official SDK sends; a provider may pin another (`anthropic_version`). */
export const defaultAnthropicVersion = '2023-06-01';

/**
 * `{base}/v1/{path}`. The documented base URL is the host (`https://api.anthropic.com`), but many
 * configurations copy an OpenAI-style base that already ends in `/v1`: both work.
 */
export function anthropicUrl(target: Target, path: string): string {
  const base = target.provider.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${base}/v1/${path}`;
}

export function anthropicHeaders(target: Target): Record<string, string> {
  const version = target.provider.options.anthropic_version;
  const headers: Record<string, string> = {
    ...target.provider.headers,
    'anthropic-version': typeof version === 'string' && version !== '' ? version : defaultAnthropicVersion,
  };
  if (target.apiKey) headers['x-api-key'] = target.apiKey;
  return headers;
}

/**
 * A `POST /v1/messages` call with this body, only the model replaced. No stream option is needed:
 * an Anthropic stream always carries usage (`message_start` and `message_delta`).
 */
export function messagesRequest(body: Record<string, unknown>, target: Target): UpstreamRequest {
  const outgoing: Record<string, unknown> = { ...body, model: target.model };
  return {
    url: anthropicUrl(target, 'messages'),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...anthropicHeaders(target) },
    body: JSON.stringify(outgoing),
  };
}

/** `GET /v1/models`: cheap, authenticated, and tells whether the key and the API are up. */
export function anthropicProbe(target: Target): UpstreamRequest {
  return { url: anthropicUrl(target, 'models'), method: 'GET', headers: anthropicHeaders(target) };
}
