import { isRecord } from '../shared/json.js';

/** A function call as one part of a response carries it: whole, or (Vertex, streaming) in pieces. */
export interface FunctionCallPart {
  name: string | undefined;
  args: Record<string, unknown> | undefined;
  id: string | undefined;
  /** Argument pieces of a call streamed with `streamFunctionCallArguments`. */
  partialArgs: readonly unknown[];
  /** More parts of this same call follow. */
  willContinue: boolean;
}

export type ResponsePart = { type: 'text'; text: string } | { type: 'call'; call: FunctionCallPart } | { type: 'ignored' };

/**
 * Reads one part of a candidate. Thought parts are the model's reasoning, not its answer.
 * Parts Detour never asks for (code execution, generated images) have no OpenAI counterpart
 * and are ignored: no canonical request can enable the tools that produce them.
 */
export function readResponsePart(part: unknown): ResponsePart {
  if (!isRecord(part) || part.thought === true) return { type: 'ignored' };
  if (typeof part.text === 'string') return { type: 'text', text: part.text };
  const call = part.functionCall;
  if (!isRecord(call)) return { type: 'ignored' };
  return {
    type: 'call',
    call: {
      name: typeof call.name === 'string' && call.name !== '' ? call.name : undefined,
      args: isRecord(call.args) ? call.args : undefined,
      id: typeof call.id === 'string' && call.id !== '' ? call.id : undefined,
      partialArgs: Array.isArray(call.partialArgs) ? call.partialArgs : [],
      willContinue: call.willContinue === true,
    },
  };
}

export function candidateParts(candidate: unknown): unknown[] {
  if (!isRecord(candidate) || !isRecord(candidate.content) || !Array.isArray(candidate.content.parts)) return [];
  return candidate.content.parts;
}

/**
 * Ids for the calls of one response. The Gemini API usually sends calls without ids (and pairs
 * results with calls by name), while OpenAI clients need one per call: an upstream id is kept,
 * otherwise the id is derived from the response id and the call's position, so the same
 * answer always yields the same ids and two answers of one conversation do not share any.
 */
export class ToolCallIds {
  private count = 0;

  constructor(private readonly responseId: string | undefined) {}

  next(upstreamId: string | undefined): string {
    const position = this.count++;
    if (upstreamId !== undefined) return upstreamId;
    return this.responseId !== undefined ? `call_${this.responseId}_${position}` : `call_${position}`;
  }
}
