import { azureOpenAiAdapter, openAiAdapter, openAiIngress } from './openai/index.js';
import type { IngressCodec, ProviderAdapter, WireFormat } from './types.js';

/** Upstream adapters by provider `type:`. A new provider is one folder and one line here. */
export const adapters: Readonly<Record<string, ProviderAdapter>> = {
  openai: openAiAdapter,
  'azure-openai': azureOpenAiAdapter,
};

/** Client-facing codecs by ingress format. */
export const ingressCodecs: Partial<Record<WireFormat, IngressCodec>> = {
  openai: openAiIngress,
};

export const providerTypes = (): string[] => Object.keys(adapters);
