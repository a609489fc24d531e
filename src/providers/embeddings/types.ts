/**
 * The canonical embeddings call and answer: OpenAI's `POST /v1/embeddings` as the lingua franca,
 * as Chat Completions is for chat. Every embeddings adapter translates to and from these.
 */
import type { Target } from '../../core/settings.js';
import type { UpstreamRequest, Usage } from '../types.js';

/** One input: a text, or a text already turned into the model's tokens. */
export type EmbeddingInput = string | readonly number[];

/** How the client wants its vectors: JSON numbers, or base64 of little-endian float32 (OpenAI's `base64`). */
export type EmbeddingEncoding = 'float' | 'base64';

/** A validated `POST /v1/embeddings` body. */
export interface EmbeddingsRequest {
  /** The route (the client's `model`). */
  route: string;
  inputs: readonly EmbeddingInput[];
  encoding: EmbeddingEncoding;
  /** The vector size the client asked for; absent, the target's configured `dimensions` (if any) goes upstream. */
  dimensions?: number | undefined;
  user?: string | undefined;
  /** The client's body as it came: an OpenAI-compatible upstream receives its other fields too. */
  body: Readonly<Record<string, unknown>>;
}

/** One vector as the upstream sent it: numbers, or OpenAI's base64 of little-endian float32. */
export type Vector = { type: 'float'; values: readonly number[] } | { type: 'base64'; base64: string };

/** An upstream's answer, checked: one vector per input, in input order, all of one size. */
export interface EmbeddingsAnswer {
  vectors: readonly Vector[];
  dimensions: number;
  /** The model the upstream says it ran. */
  model: string;
  /** The upstream's count, or Detour's when it sent none (`isUsageEstimated`). */
  usage: Usage;
  isUsageEstimated: boolean;
  /** The client's encoding, which the answer is written in. */
  encoding: EmbeddingEncoding;
  /**
   * The upstream's body is already the client's answer (an OpenAI-compatible upstream, asked in
   * the client's encoding): it is passed on as it came, not written again.
   */
  isClientShape: boolean;
}

/**
 * The embeddings face of one provider type. Like `ProviderAdapter`, a new provider is one file
 * and one line in the registry; errors are classified by the provider's `ProviderAdapter`.
 */
export interface EmbeddingsAdapter {
  /** The upstream call; throws a `failover` DetourError naming the target for an input it cannot take. */
  buildRequest(request: EmbeddingsRequest, target: Target): UpstreamRequest;
  /**
   * The upstream's JSON answer, checked against the request (shape, one vector per input, one
   * size, the size asked for): anything else is `UPSTREAM_BAD_RESPONSE`.
   */
  parseResponse(json: unknown, request: EmbeddingsRequest, target: Target): EmbeddingsAnswer;
}
