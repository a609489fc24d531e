import { DetourError } from '../core/errors.js';
import type { Target } from '../core/settings.js';
import { encodeEmbeddingsResponse, type EmbeddingsAnswer, type EmbeddingsRequest } from '../providers/embeddings/index.js';
import { embeddingsAdapters } from '../providers/registry.js';
import type { UpstreamRequest, Usage } from '../providers/types.js';
import type { BodyContent } from './result.js';

/** What the planner reads of an embeddings call: no images, tools or JSON mode, nothing a chat capability filters on. */
export const embeddingsNeedsSource = { messages: [] } as const;

/** The embeddings call to one target, through its provider type's embeddings face; a type without one is skipped. */
export function embeddingsUpstream(request: EmbeddingsRequest, target: Target): UpstreamRequest {
  const adapter = embeddingsAdapters[target.provider.type];
  if (!adapter) throw new DetourError({ kind: 'failover', code: 'UNSUPPORTED_FEATURE', status: 400, target: target.id, message: `${target.id}: providers of type ${target.provider.type} serve no embeddings` });
  return adapter.buildRequest(request, target);
}

/** Checks a 200's JSON as an embeddings answer to `request` (throws `UPSTREAM_BAD_RESPONSE`). */
export function checkEmbeddingsAnswer(request: EmbeddingsRequest, json: unknown, target: Target): EmbeddingsAnswer {
  const adapter = embeddingsAdapters[target.provider.type];
  if (!adapter) throw new DetourError({ kind: 'failover', code: 'UNSUPPORTED_FEATURE', status: 400, target: target.id, message: `${target.id}: providers of type ${target.provider.type} serve no embeddings` });
  return adapter.parseResponse(json, request, target);
}

/** A served embeddings answer as the engine hands it on: the upstream's bytes when they are the client's answer already. */
export function embeddingsServed(answer: EmbeddingsAnswer, body: Buffer): { content: BodyContent; usage: () => Usage; logged: () => string; headers: Record<string, string> } {
  const content: BodyContent = answer.isClientShape ? { kind: 'raw', bytes: body } : { kind: 'embeddings', answer };
  return {
    content,
    usage: () => answer.usage,
    logged: () => (answer.isClientShape ? body.toString('utf8') : encodeEmbeddingsResponse(answer)),
    // The upstream counted nothing: the usage is Detour's estimate, and says so.
    headers: answer.isUsageEstimated ? { 'x-detour-usage-estimated': 'true' } : {},
  };
}
