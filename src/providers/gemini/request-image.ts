import type { Target } from '../../core/settings.js';
import type { GeminiPart } from './schema.js';
import { unsupportedFeature } from './unsupported.js';

/** Extensions Gemini accepts for images, by the media type it wants to be told. */
const imageTypes: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jfif: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

/**
 * Gemini wants a media type with every remote file, OpenAI's `image_url` names none, and
 * fetching the image to sniff it would put a download on the request path. So the type is
 * guessed from the URL's extension, and an URL without a known one is taken for JPEG, the
 * commonest image type on the web (Gemini reads the bytes it fetches; the type is a hint).
 */
export function guessImageMimeType(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url;
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension !== undefined ? imageTypes[extension] : undefined) ?? 'image/jpeg';
}

/**
 * An OpenAI image URL as a Gemini part: a data URL travels inline (`inlineData`), an http(s)
 * URL by reference (`fileData`), which Gemini fetches itself.
 */
export function imageUrlToPart(url: string, target: Target): GeminiPart {
  if (url.startsWith('data:')) return dataUrlToPart(url, target);
  if (/^https?:\/\//i.test(url)) return { fileData: { mimeType: guessImageMimeType(url), fileUri: url } };
  throw unsupportedFeature(target, `an image URL with the scheme of "${url.slice(0, 16)}…" (only data:, http: and https:)`);
}

function dataUrlToPart(url: string, target: Target): GeminiPart {
  const comma = url.indexOf(',');
  if (comma === -1) throw unsupportedFeature(target, 'a malformed data: URL image');
  const [mimeType = '', ...parameters] = url.slice('data:'.length, comma).split(';');
  if (mimeType === '') throw unsupportedFeature(target, 'a data: URL image without a media type');
  const payload = url.slice(comma + 1);
  // RFC 2397 data URLs may also be percent-encoded text (SVG); Gemini wants base64 either way.
  if (parameters.includes('base64')) return { inlineData: { mimeType, data: payload } };
  try {
    return { inlineData: { mimeType, data: Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64') } };
  } catch {
    throw unsupportedFeature(target, 'a data: URL image whose percent-encoding is broken');
  }
}
