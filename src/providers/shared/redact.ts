/**
 * Removes secrets from text that may reach a client, a log, the request log or an export: every
 * given secret wherever it appears, and anything shaped like a provider or Detour key (providers
 * echo part of a bad key in their 401 messages). A secret is caught raw, JSON-escaped
 * (`\u0073k-…`), URL-encoded (`%73k-…`) and inside base64 (a basic-auth header echoed back):
 * escapes of harmless characters are decoded first, and base64 is matched by the three cores
 * any encoding of a string containing the secret must hold, whatever came before it.
 */
const keyShapes = /\b(sk-[A-Za-z0-9_*-]{6,}|sk-ant-[A-Za-z0-9_*-]{6,}|AIza[0-9A-Za-z_-]{20,}|dtr_[A-Za-z0-9_-]{8,})/g;

const redacted = '[redacted]';
/** Secrets shorter than this are not matched: they would redact ordinary words. */
const minSecretLength = 4;
/** Base64 cores shorter than this match too much by chance. */
const minCoreLength = 8;

/** `\uXXXX` and `%XX` escapes of letters, digits and `-._~`: no reason to escape them but to hide something. */
const harmlessEscapes = /\\u00([0-9a-fA-F]{2})|%([0-9a-fA-F]{2})/g;

function decodeHarmless(text: string): string {
  if (!text.includes('\\u00') && !text.includes('%')) return text;
  return text.replace(harmlessEscapes, (match, json: string | undefined, percent: string | undefined) => {
    const char = String.fromCharCode(parseInt(json ?? percent ?? '', 16));
    return /[A-Za-z0-9._~-]/.test(char) ? char : match;
  });
}

const coreCache = new Map<string, string[]>();

/** The base64 text any encoding of `…secret…` contains, for each of the three byte alignments. */
function base64Cores(secret: string): string[] {
  const cached = coreCache.get(secret);
  if (cached) return cached;
  const bytes = Buffer.from(secret, 'utf8');
  const cores: string[] = [];
  for (const offset of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const whole = padded.subarray(0, padded.length - (padded.length % 3));
    const skip = offset === 0 ? 0 : offset + 1;
    const core = whole.toString('base64').slice(skip);
    if (core.length >= minCoreLength) cores.push(core);
  }
  if (coreCache.size > 1000) coreCache.clear();
  coreCache.set(secret, cores);
  return cores;
}

export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = decodeHarmless(text);
  for (const secret of secrets) {
    if (secret.length < minSecretLength) continue;
    if (result.includes(secret)) result = result.split(secret).join(redacted);
    for (const core of base64Cores(secret)) if (result.includes(core)) result = result.split(core).join(redacted);
  }
  return result.replace(keyShapes, redacted);
}

/** Deep enough for any error body; beyond it, values are dropped rather than walked. */
const maxDepth = 16;

/** A parsed JSON value with every string (and key) redacted; the JSON-escaped forms were undone by parsing. */
export function redactJson(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= maxDepth) return redacted;
  if (Array.isArray(value)) return value.map((item) => redactJson(item, secrets, depth + 1));
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) result[redactSecrets(key, secrets)] = redactJson(item, secrets, depth + 1);
  return result;
}

/**
 * Text that may be JSON: parsed and redacted string by string, then written again (so that an
 * escape hides nothing); any other text redacted as text.
 */
export function redactBody(text: string, secrets: readonly string[] = []): string {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(text), secrets));
    } catch {
      // not JSON after all
    }
  }
  return redactSecrets(text, secrets);
}
