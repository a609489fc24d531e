import { newItemId } from '../../providers/responses/ingress-response.js';
import type { StateStore } from '../../state/state-store.js';

/**
 * The conversations of the Responses API answers Detour served (`store: true`, the default):
 * what went in and what came out, kept in the state store (this process's memory, or Redis
 * for a cluster) so that a follow-up by `previous_response_id` carries the whole conversation
 * to whichever target serves it, even one that never saw the first turn.
 */
export interface StoredResponse {
  /** Every input item of that turn, earlier turns included. */
  input: unknown[];
  /** The Response object as the client received it. */
  response: Record<string, unknown>;
}

/** How long a conversation is kept: OpenAI keeps stored responses for 30 days. */
export const conversationTtlMs = 30 * 24 * 3600 * 1000;

const idPattern = /^[A-Za-z0-9_-]{1,128}$/;

export function isResponseId(id: string): boolean {
  return idPattern.test(id);
}

const key = (id: string): string => `response:${id}`;

export async function loadResponse(store: StateStore, id: string): Promise<StoredResponse | undefined> {
  if (!isResponseId(id)) return undefined;
  const text = await store.getDocument(key(id));
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as StoredResponse;
    return Array.isArray(parsed.input) && typeof parsed.response === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function saveResponse(store: StateStore, stored: StoredResponse): Promise<void> {
  const id = stored.response.id;
  if (typeof id !== 'string' || !isResponseId(id)) return;
  await store.putDocument(key(id), JSON.stringify(stored), conversationTtlMs);
}

export function deleteResponse(store: StateStore, id: string): Promise<boolean> {
  return isResponseId(id) ? store.deleteDocument(key(id)) : Promise.resolve(false);
}

/**
 * Input items as OpenAI lists them (`GET /v1/responses/{id}/input_items`): every message with an
 * id and its content as parts, whatever shorthand the client sent.
 */
export function normalizeInput(items: readonly unknown[]): unknown[] {
  return items.map((item) => {
    if (typeof item !== 'object' || item === null) return item;
    const record = item as Record<string, unknown>;
    const isMessage = record.type === undefined || record.type === 'message';
    if (!isMessage) return record;
    const partType = record.role === 'assistant' ? 'output_text' : 'input_text';
    const content = typeof record.content === 'string' ? [{ type: partType, text: record.content }] : record.content;
    return { id: typeof record.id === 'string' ? record.id : newItemId('msg'), type: 'message', role: record.role, content, ...(record.status ? { status: record.status } : {}) };
  });
}

/** The conversation a follow-up continues: that turn's input, then its output. */
export function conversationOf(stored: StoredResponse): unknown[] {
  const output = Array.isArray(stored.response.output) ? stored.response.output : [];
  return [...stored.input, ...output];
}

/**
 * The input as an upstream's Responses API takes it: a user, system or developer message has no
 * `id` there (only the listing of input items gives one, and only assistant output items carry
 * theirs), so the ids Detour gave them for `input_items` stay out of what is sent.
 */
export function upstreamInput(items: readonly unknown[]): unknown[] {
  return items.map((item) => {
    if (typeof item !== 'object' || item === null) return item;
    const { id: _id, ...rest } = item as Record<string, unknown>;
    const isMessage = rest.type === undefined || rest.type === 'message';
    return isMessage && rest.role !== 'assistant' && _id !== undefined ? rest : item;
  });
}
