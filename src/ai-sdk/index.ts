/**
 * `detour/ai-sdk`: Detour routes as Vercel AI SDK language models, so `generateText` and
 * `streamText` get the gateway's failover, retries, breakers and hedging in process.
 */
export { createDetour, type DetourProvider, type DetourProviderSettings } from './detour-provider.js';
export { DetourLanguageModel } from './detour-language-model.js';
