export type { EmbeddingInput, EmbeddingEncoding, EmbeddingsAdapter, EmbeddingsAnswer, EmbeddingsRequest, Vector } from './types.js';
export { readEmbeddingsRequest, encodeEmbeddingsResponse, maxEmbeddingInputs } from './ingress.js';
export { azureOpenAiEmbeddings, openAiEmbeddings } from './openai.js';
export { geminiEmbeddings } from './gemini.js';
export { base64ToFloats, floatsToBase64 } from './vectors.js';
