import type { Usage } from './events.js';

/**
 * Continuing a stream that broke after it had reached the client: the pure parts. A backup is
 * asked for the rest of the answer with the partial answer as a prefix; what it sends is spliced
 * into the client's stream with any repetition of the prefix removed, and usage is summed.
 */

/**
 * The instruction that follows the partial answer for formats without an assistant prefill
 * (OpenAI, Gemini). Models honour "exactly" well; the overlap trim catches the rest.
 */
export const continuationInstruction =
  'Your previous answer was cut off. Continue it exactly where it stopped: do not repeat anything already written, add no preamble, and keep the same language and formatting.';

/** How much of the prefix's end a continuation may repeat and still be recognised (characters). */
export const maxOverlapChars = 200;
/** A shorter match is taken for the answer's own words, not a repetition. */
export const minOverlapChars = 3;

/**
 * How many leading characters of `text` repeat the end of `prefix` and must be dropped. Leading
 * whitespace is dropped too when the prefix already ends with some (a prefill is sent without its
 * trailing whitespace, which the continuation then writes again).
 */
export function overlapLength(prefix: string, text: string): number {
  for (let length = Math.min(maxOverlapChars, prefix.length, text.length); length >= minOverlapChars; length--) {
    if (prefix.endsWith(text.slice(0, length))) return length;
  }
  if (/\s$/.test(prefix)) return /^\s*/.exec(text)?.[0].length ?? 0;
  return 0;
}

/**
 * Whether the continuation's first `text` might still be a repetition of the prefix, so that the
 * decision must wait for more: it is a piece of the prefix's tail, and shorter than the longest
 * repetition recognised.
 */
export function mayStillOverlap(prefix: string, text: string): boolean {
  if (text.length >= maxOverlapChars) return false;
  const tail = prefix.slice(-maxOverlapChars);
  return tail.includes(text) || (/\s$/.test(prefix) && /^\s*$/.test(text));
}

/** Two attempts' usage as one answer's: both were billed. */
export function sumUsage(first: Usage | undefined, second: Usage | undefined): Usage | undefined {
  if (!first) return second;
  if (!second) return first;
  const prompt = first.prompt_tokens + second.prompt_tokens;
  const completion = first.completion_tokens + second.completion_tokens;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Roughly four characters per token: what a cut stream whose usage never came is estimated at. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
