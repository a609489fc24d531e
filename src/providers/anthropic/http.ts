import type { Target } from '../../core/settings.js';
import type { ForwardedParts, UpstreamRequest } from '../types.js';
import { rawWithModel, type RawJson } from '../shared/raw-json.js';

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
export function messagesRequest(body: Record<string, unknown>, target: Target, forward?: ForwardedParts, path = 'messages', raw?: RawJson): UpstreamRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...anthropicHeaders(target) };
  let url = anthropicUrl(target, path);
  if (forward) {
    // A client's own version and betas (Claude Code's `anthropic-beta` list) reach Anthropic as
    // they came; betas the provider itself pins are kept beside them.
    const version = forward.headers['anthropic-version'];
    if (version) headers['anthropic-version'] = version;
    const betas = [headers['anthropic-beta'], forward.headers['anthropic-beta']].filter((value): value is string => typeof value === 'string' && value !== '');
    if (betas.length > 0) headers['anthropic-beta'] = betas.join(',');
    const beta = new URLSearchParams(forward.query).get('beta');
    if (beta !== null) url += `?beta=${encodeURIComponent(beta)}`;
  }
  return { url, method: 'POST', headers, body: raw ? rawWithModel(raw, target.model) : JSON.stringify({ ...body, model: target.model }) };
}

/** `GET /v1/models`: cheap, authenticated, and tells whether the key and the API are up. */
export function anthropicProbe(target: Target): UpstreamRequest {
  return { url: anthropicUrl(target, 'models'), method: 'GET', headers: anthropicHeaders(target) };
}
