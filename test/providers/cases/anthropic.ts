import type { AdapterCases } from './types.js';

/**
 * The Anthropic adapter's conformance cases. Left to the engineer who owns
 * `src/providers/anthropic/`: fill this with the `anthropic/*` fixtures (text, json-tool,
 * tool-no-args, refusal) and the rich request of `./requests.ts`, as `./gemini.ts` does.
 * While it is empty the suite reports the Anthropic adapter as skipped, saying why.
 */
export const anthropicCases: AdapterCases[] = [];
