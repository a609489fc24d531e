import { estimateInputTokens } from './request-needs.js';

/** Output reserved for a request that sets no limit of its own: a long answer, rarely exceeded. */
export const defaultReservedOutputTokens = 4096;

/** Where each wire format keeps the prompt, read without translating the body. */
const promptFields = ['messages', 'system', 'contents', 'systemInstruction', 'input', 'instructions'] as const;

/** The tokens a request may spend at most: its input (estimated) and its output limit. */
export interface TokenReservation {
  input: number;
  output: number;
}

/**
 * The worst case of one request, read from the client's body in its own format: the input
 * estimate (the same cheap count the planner uses) and `max_tokens` (`max_completion_tokens`,
 * `max_output_tokens`, Gemini's `generationConfig.maxOutputTokens`), else `fallbackOutput`.
 */
export function reserveTokens(body: Readonly<Record<string, unknown>>, fallbackOutput = defaultReservedOutputTokens): TokenReservation {
  const messages = promptFields.map((field) => body[field]).filter((value) => value !== undefined);
  const tools = Array.isArray(body.tools) ? (body.tools as unknown[]) : undefined;
  const input = estimateInputTokens({ messages, tools });
  const generation = body.generationConfig;
  const declared = [body.max_tokens, body.max_completion_tokens, body.max_output_tokens, typeof generation === 'object' && generation !== null ? (generation as Record<string, unknown>).maxOutputTokens : undefined].find(
    (value): value is number => typeof value === 'number' && Number.isFinite(value) && value > 0,
  );
  return { input, output: Math.min(Math.ceil(declared ?? fallbackOutput), 10_000_000) };
}
