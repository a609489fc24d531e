import type { JsonTextFacts } from './input-checks.js';

/**
 * A request body as the client sent it, kept beside its parsed value for a same-format upstream:
 * that upstream gets these bytes with only the model replaced. Serializing the parsed value
 * again cost more than parsing it (110 KB agent requests: ~120 µs against ~85 µs).
 *
 * A body that came as bytes is kept as those bytes, and the upstream's body is built as bytes
 * (one copy outside the JavaScript heap): a string of the same size would be copied by every
 * young-generation collection the request lives through, and flattened once more to be sent.
 */
export interface RawJson {
  /** The client's UTF-8 bytes (without a byte-order mark), or its text for a body that came as a string; the offsets index it. */
  readonly source: Uint8Array | string;
  /** The top-level `"model"` value, quotes included: [start, end). */
  readonly modelValue: readonly [number, number];
  /** The top-level object's closing `}`. */
  readonly rootEnd: number;
}

/**
 * The text as a `RawJson`, when it says exactly what its parsed value says: one top-level string
 * `model`, and no key twice in any object. JSON.parse keeps the last of two equal keys where
 * another parser may keep the first, so text with a repeated key could mean one thing to Detour's
 * checks (a token budget, say) and another upstream; such a body is serialized from its value.
 * `bytes`: the same text as the UTF-8 the client sent, when it came so.
 */
export function rawJsonOf(text: string, facts: JsonTextFacts, value: unknown, bytes?: Uint8Array): RawJson | undefined {
  const { modelValue, rootEnd } = facts;
  if (modelValue === undefined || rootEnd === undefined) return undefined;
  if (facts.members !== membersOf(value)) return undefined;
  if (!bytes) return { source: text, modelValue, rootEnd };
  // Equal lengths: every character is one byte, and the offsets hold as they are.
  if (bytes.length === text.length) return { source: bytes, modelValue, rootEnd };
  const start = Buffer.byteLength(text.slice(0, modelValue[0]));
  const end = start + Buffer.byteLength(text.slice(modelValue[0], modelValue[1]));
  // After the root's closing brace only whitespace may follow, one byte a character.
  return { source: bytes, modelValue: [start, end], rootEnd: bytes.length - (text.length - rootEnd) };
}

/**
 * Members of every object in a parsed JSON value: what the text's colons count when no key
 * repeats. Walked with a stack of its own, not by recursion: `server.max_json_depth` may allow
 * nesting deeper than the call stack.
 */
export function membersOf(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      for (const element of item) if (typeof element === 'object' && element !== null) pending.push(element);
      continue;
    }
    for (const key in item) {
      count++;
      const member = (item as Record<string, unknown>)[key];
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
  return count;
}

/** The client's body with `model` as the top-level model, and `extra` (a `"key":value` list) added at the end of the object. */
export function rawWithModel(raw: RawJson, model: string, extra?: string): string | Buffer {
  const [start, end] = raw.modelValue;
  const { source, rootEnd } = raw;
  const modelJson = JSON.stringify(model);
  const tail = extra === undefined ? '' : `,${extra}`;
  if (typeof source === 'string') return `${source.slice(0, start)}${modelJson}${source.slice(end, rootEnd)}${tail}${source.slice(rootEnd)}`;
  const out = Buffer.allocUnsafe(source.length - (end - start) + Buffer.byteLength(modelJson) + Buffer.byteLength(tail));
  out.set(source.subarray(0, start), 0);
  let at = start + out.write(modelJson, start);
  out.set(source.subarray(end, rootEnd), at);
  at += rootEnd - end;
  at += out.write(tail, at);
  out.set(source.subarray(rootEnd), at);
  return out;
}

/** What may follow a string's closing quote, and what may come right before a string's opening one. */
const afterString = /^[\s,:\]}]/;
const beforeString = /[\s,:[{]$/;

/**
 * `text` (JSON, or server-sent events of JSON) with every string token `"value"` replaced by the
 * string `replacement`: a string equal to `value`, never a part of a longer one. `value` is
 * matched as raw text and holds no quote or backslash. A quote inside a string is escaped, so a
 * match counts only when the quote it starts with is not: an even run of backslashes before it
 * (`\\"` ends the string before it). A value that could also be what stands between two
 * strings (opening as a string may be followed, `,` `:` `]` `}` or a space, and closing as one
 * may be preceded, `,` `:` `[` `{` or a space) could match from one string's end to the next
 * one's start: such a value replaces nothing.
 */
export function replaceJsonString(text: string, value: string, replacement: string): string {
  if (afterString.test(value) && beforeString.test(value)) return text;
  const token = `"${value}"`;
  let at = text.indexOf(token);
  if (at === -1) return text;
  const encoded = JSON.stringify(replacement);
  let out = '';
  let copied = 0;
  for (; at !== -1; at = text.indexOf(token, at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 1) continue;
    out += text.slice(copied, at) + encoded;
    copied = at + token.length;
    at = copied - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
