import type { ProviderSettings } from '../core/settings.js';
import { anthropicAdapter, anthropicIngress } from './anthropic/index.js';
import { azureOpenAiAdapter, openAiAdapter, openAiIngress } from './openai/index.js';
import { geminiAdapter, geminiIngress } from './gemini/index.js';
import { azureResponsesAdapter, openAiResponsesAdapter, responsesIngress } from './responses/index.js';
import type { IngressCodec, ProviderAdapter, WireFormat } from './types.js';
import { azureOpenAiEmbeddings, geminiEmbeddings, openAiEmbeddings, type EmbeddingsAdapter } from './embeddings/index.js';

/** Marks the adapter of a provider type that speaks the Responses API (`api: responses`). */
const responsesSuffix = '+responses';

/** Upstream adapters by provider `type:` (and `type+responses` for `api: responses`). A new provider is one folder and one line here. */
export const adapters: Readonly<Record<string, ProviderAdapter>> = {
  openai: openAiAdapter,
  'azure-openai': azureOpenAiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  [`openai${responsesSuffix}`]: openAiResponsesAdapter,
  [`azure-openai${responsesSuffix}`]: azureResponsesAdapter,
};

/** Embeddings faces by provider `type:` (routes of `kind: embeddings`); a type missing here cannot serve one. */
export const embeddingsAdapters: Readonly<Record<string, EmbeddingsAdapter>> = {
  openai: openAiEmbeddings,
  'azure-openai': azureOpenAiEmbeddings,
  gemini: geminiEmbeddings,
};

/** The key of a provider's adapter: its type, or its Responses API face when it is set to `api: responses`. */
export function adapterKeyOf(provider: Pick<ProviderSettings, 'type' | 'options'>): string {
  return provider.options.api === 'responses' ? `${provider.type}${responsesSuffix}` : provider.type;
}

/** Client-facing codecs by ingress format. */
export const ingressCodecs: Partial<Record<WireFormat, IngressCodec>> = {
  openai: openAiIngress,
  responses: responsesIngress,
  anthropic: anthropicIngress,
  gemini: geminiIngress,
};

export const providerTypes = (): string[] => Object.keys(adapters).filter((key) => !key.endsWith(responsesSuffix));

/** Provider types that can be set to `api: responses`. */
export const responsesApiTypes = (): string[] => Object.keys(adapters).filter((key) => key.endsWith(responsesSuffix)).map((key) => key.slice(0, -responsesSuffix.length));
