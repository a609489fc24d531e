import { tryParseJson, isRecord } from '../shared/json.js';
import type { ChatResponse, ErrorPayload, ResponseMessage, ToolCall } from '../types.js';
import { toGeminiFinishReason } from './finish-reason.js';
import { errorInfoType, quotaFailureType, retryInfoType, type GeminiCandidate, type GeminiErrorBody, type GeminiPart, type GeminiResponseBody } from './schema.js';
import { toGeminiUsageMetadata } from './usage.js';

/** A chat completion as Gemini would have answered it. */
export function encodeGeminiResponse(response: ChatResponse): string {
  const body: GeminiResponseBody = {
    candidates: response.choices.map((choice) =>
      geminiCandidate(choice.index, messageParts(choice.message), choice.finish_reason === null ? undefined : toGeminiFinishReason(choice.finish_reason), choice.message.refusal),
    ),
    ...(response.usage ? { usageMetadata: toGeminiUsageMetadata(response.usage) } : {}),
    modelVersion: response.model,
    responseId: response.id,
  };
  return JSON.stringify(body);
}

export function geminiCandidate(index: number, parts: GeminiPart[], finishReason: string | undefined, refusal?: string | null): GeminiCandidate {
  return {
    // Gemini leaves `content` out of a candidate that says nothing (a blocked one).
    ...(parts.length > 0 ? { content: { role: 'model' as const, parts } } : {}),
    ...(finishReason !== undefined ? { finishReason } : {}),
    // Gemini has no refusal field; its `finishMessage` is where it explains why an answer stopped.
    ...(refusal ? { finishMessage: refusal } : {}),
    index,
  };
}

function messageParts(message: ResponseMessage): GeminiPart[] {
  const parts: GeminiPart[] = [];
  if (message.content) parts.push({ text: message.content });
  for (const call of message.tool_calls ?? []) parts.push(functionCallPart(call.function.name, call.function.arguments));
  return parts;
}

/**
 * A call as Gemini returns it: arguments as an object and, as the Gemini API does, no id
 * (clients pair results with calls by name). Arguments that are not a JSON object (a model's
 * broken JSON) cannot be a protobuf Struct; they become an empty object.
 */
export function functionCallPart(name: string, argumentsText: ToolCall['function']['arguments']): GeminiPart {
  const args = tryParseJson(argumentsText);
  return { functionCall: { name, args: isRecord(args) ? args : {} } };
}

const statusNames = new Set([
  'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]);

const statusByHttp: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
  529: 'UNAVAILABLE',
};

/** The canonical gRPC status Google's HTTP APIs pair with an HTTP code (google.rpc.Code). */
export function geminiStatusName(httpStatus: number): string {
  return statusByHttp[httpStatus] ?? (httpStatus >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
}

/**
 * An error in Google's envelope. A `code` that is itself a status name (FAILED_PRECONDITION)
 * becomes the status; a quota name on a 429 (…PerDay…) a QuotaFailure; any other code
 * (API_KEY_INVALID) an ErrorInfo reason, where Google puts it. `retry_after_s` becomes the
 * RetryInfo delay a real 429 carries, and other details ErrorInfo metadata.
 */
export function geminiErrorBody(error: ErrorPayload): GeminiErrorBody {
  const isStatusName = statusNames.has(error.code);
  const { retry_after_s: retryAfterSeconds, ...rest } = error.details ?? {};
  const details: Array<Record<string, unknown>> = [];
  if (error.status === 429 && /Per(Second|Minute|Hour|Day)/.test(error.code)) {
    details.push({ '@type': quotaFailureType, violations: [{ quotaId: error.code }] });
  } else if (!isStatusName || Object.keys(rest).length > 0) {
    const metadata = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    details.push({ '@type': errorInfoType, reason: error.code, domain: 'googleapis.com', ...(Object.keys(metadata).length > 0 ? { metadata } : {}) });
  }
  if (typeof retryAfterSeconds === 'number') details.push({ '@type': retryInfoType, retryDelay: `${retryAfterSeconds}s` });
  return {
    error: {
      code: error.status,
      message: error.message,
      status: isStatusName ? error.code : geminiStatusName(error.status),
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

export function encodeGeminiError(error: ErrorPayload): string {
  return JSON.stringify(geminiErrorBody(error));
}
