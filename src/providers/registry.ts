import { anthropicAdapter, anthropicIngress } from './anthropic/index.js';
import { azureOpenAiAdapter, openAiAdapter, openAiIngress } from './openai/index.js';
import { geminiAdapter, geminiIngress } from './gemini/index.js';
import type { IngressCodec, ProviderAdapter, WireFormat } from './types.js';

/** Upstream adapters by provider `type:`. A new provider is one folder and one line here. */
export const adapters: Readonly<Record<string, ProviderAdapter>> = {
  openai: openAiAdapter,
  'azure-openai': azureOpenAiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};

/** Client-facing codecs by ingress format. */
export const ingressCodecs: Partial<Record<WireFormat, IngressCodec>> = {
  openai: openAiIngress,
  anthropic: anthropicIngress,
  gemini: geminiIngress,
};

export const providerTypes = (): string[] => Object.keys(adapters);
