/**
 * The parts of Google's Generative Language API (`v1beta`) wire format that Detour writes.
 * All fields are proto3 JSON: lowerCamelCase, absent rather than null. What Detour reads from
 * the wire is parsed from `unknown` where it is read, never trusted to match these types.
 */

export interface GeminiFunctionCall {
  name: string;
  /** A JSON object (a protobuf Struct): never a string, never an array. */
  args: Record<string, unknown>;
  id?: string;
}

export interface GeminiFunctionResponse {
  name: string;
  /** A JSON object; by convention the result goes under `output` (or `error`). */
  response: Record<string, unknown>;
  id?: string;
}

/** A part carries exactly one payload field, plus the optional thought markers. */
export interface GeminiPart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
  /** A part of the model's reasoning, not of its answer. */
  thought?: boolean;
  /** Opaque; Gemini 3 wants it echoed back on the function calls of later turns. */
  thoughtSignature?: string;
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  /** Plain JSON Schema; mutually exclusive with the OpenAPI-subset `parameters`. */
  parametersJsonSchema?: Record<string, unknown>;
}

export type GeminiFunctionCallingMode = 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED';

export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseJsonSchema?: Record<string, unknown>;
}

export interface GeminiRequestBody {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: GeminiFunctionCallingMode; allowedFunctionNames?: string[] } };
  generationConfig?: GeminiGenerationConfig;
}

export interface GeminiUsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
}

export interface GeminiCandidate {
  content?: GeminiContent;
  finishReason?: string;
  finishMessage?: string;
  index: number;
}

/** One `GenerateContentResponse`: a whole answer, or one event of a stream. */
export interface GeminiResponseBody {
  candidates?: GeminiCandidate[];
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** Google's error envelope (`google.rpc.Status` as JSON). */
export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: Array<Record<string, unknown>> };
}

export const retryInfoType = 'type.googleapis.com/google.rpc.RetryInfo';
export const quotaFailureType = 'type.googleapis.com/google.rpc.QuotaFailure';
export const errorInfoType = 'type.googleapis.com/google.rpc.ErrorInfo';
