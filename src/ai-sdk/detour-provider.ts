import { NoSuchModelError, type EmbeddingModelV3, type ImageModelV3, type LanguageModelV3, type ProviderV3 } from '@ai-sdk/provider';
import type { Gateway } from '../library/gateway.js';
import { DetourEmbeddingModel } from './detour-embedding-model.js';
import { DetourLanguageModel } from './detour-language-model.js';

/** An AI SDK provider whose language models are the routes of one Detour gateway. */
export interface DetourProvider extends ProviderV3 {
  /** The language model for a route name (or `provider/model`), as `generateText({ model: detour('chat') })` takes it. */
  (route: string): LanguageModelV3;
  languageModel(route: string): LanguageModelV3;
  /** The embedding model for a route of `kind: embeddings`, as `embed({ model: detour.embeddingModel('embed'), value })` takes it. */
  embeddingModel(route: string): EmbeddingModelV3;
}

export interface DetourProviderSettings {
  /** The provider name the AI SDK reports (telemetry, errors); `detour` by default. */
  name?: string;
}

/**
 * Makes an AI SDK provider over a gateway from `createGateway`:
 * `const detour = createDetour(gateway); await generateText({ model: detour('chat'), prompt })`.
 * Language models (chat routes) and embedding models (routes of `kind: embeddings`); no image models.
 */
export function createDetour(gateway: Gateway, settings: DetourProviderSettings = {}): DetourProvider {
  const name = settings.name ?? 'detour';
  const languageModel = (route: string): LanguageModelV3 => new DetourLanguageModel(gateway, route, name);
  const provider = (route: string): LanguageModelV3 => languageModel(route);
  return Object.assign(provider, {
    specificationVersion: 'v3' as const,
    languageModel,
    embeddingModel: (route: string): EmbeddingModelV3 => new DetourEmbeddingModel(gateway, route, name),
    imageModel(modelId: string): ImageModelV3 {
      throw new NoSuchModelError({ modelId, modelType: 'imageModel', message: `Detour routes language and embedding models only; "${modelId}" cannot be an image model` });
    },
  });
}
