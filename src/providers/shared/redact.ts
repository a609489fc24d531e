/**
 * Removes secrets from text that may reach a client, a log or the request log: the target's own
 * key wherever it appears, and anything shaped like a provider key (providers echo part of a bad
 * key in their 401 messages).
 */
const keyShapes = /\b(sk-[A-Za-z0-9_*-]{6,}|sk-ant-[A-Za-z0-9_*-]{6,}|AIza[0-9A-Za-z_-]{20,}|dtr-[A-Za-z0-9_-]{8,})/g;

export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && result.includes(secret)) result = result.split(secret).join('[redacted]');
  }
  return result.replace(keyShapes, '[redacted]');
}
