import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';
import { isRecord } from '../shared/json.js';
import type { ChatResponse, Usage } from '../types.js';

/** Checks that an upstream answer has the shape of a chat completion; it is then used as it is. */
export function parseOpenAiResponse(body: unknown, target: Target): ChatResponse {
  if (!isRecord(body) || !Array.isArray(body.choices) || !body.choices.every((choice) => isRecord(choice) && isRecord(choice.message))) {
    throw new DetourError({
      kind: 'failover',
      code: 'UPSTREAM_BAD_RESPONSE',
      status: 502,
      target: target.id,
      message: `${target.id} answered 200 with a body that is not a chat completion`,
    });
  }
  return body as unknown as ChatResponse;
}

export function readOpenAiUsage(body: unknown): Usage | undefined {
  if (!isRecord(body) || !isRecord(body.usage)) return undefined;
  const usage = body.usage;
  if (typeof usage.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') return undefined;
  return usage as unknown as Usage;
}
