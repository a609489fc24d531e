/** The request's parts a client key can travel in, whatever the transport. */
export interface CredentialSource {
  header(name: string): string | undefined;
  /** A query parameter (Gemini's `?key=`). */
  query(name: string): string | undefined;
}

/** Longest key accepted; anything longer is not a key and is not hashed. */
const maxKeyLength = 512;

/**
 * The client key a request carries: OpenAI's `Authorization: Bearer`, Anthropic's `x-api-key`,
 * or Gemini's `x-goog-api-key` / `?key=`, first found in that order.
 */
export function presentedKey(source: CredentialSource): string | undefined {
  const authorization = source.header('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization);
    if (match?.[1] !== undefined) return bounded(match[1]);
  }
  const candidate = source.header('x-api-key') ?? source.header('x-goog-api-key') ?? source.query('key');
  return candidate === undefined ? undefined : bounded(candidate.trim());
}

function bounded(key: string): string | undefined {
  return key.length > 0 && key.length <= maxKeyLength ? key : undefined;
}
