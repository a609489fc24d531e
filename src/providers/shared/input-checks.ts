import { isUtf8 } from 'node:buffer';
import { invalidRequest } from '../../core/errors.js';

/** Deepest nesting of objects and arrays a request body may have by default (`server.max_json_depth`). */
export const defaultMaxJsonDepth = 128;
/** Longest model name accepted: it travels in headers and metric labels. */
export const maxModelNameLength = 256;

/** The body as text, refused when it is not valid UTF-8 (a silent U+FFFD would change what the client sent). */
export function decodeUtf8(raw: Uint8Array): string {
  // Validated first, then decoded by Buffer's UTF-8 path (both native and fast; a strict TextDecoder is slower than the two).
  if (!isUtf8(raw)) throw invalidRequest('The request body is not valid UTF-8.', undefined, 'INVALID_JSON');
  const text = withoutBom(raw);
  return Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
}

/** The bytes without a leading byte-order mark, dropped as TextDecoder drops it. */
export function withoutBom(raw: Uint8Array): Uint8Array {
  return hasUtf8Bom(raw) ? raw.subarray(3) : raw;
}

export function hasUtf8Bom(raw: Uint8Array): boolean {
  return raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf;
}

/** What one pass over a request's JSON text learns beside its depth (`scanJsonText`). */
export interface JsonTextFacts {
  /** Members of every object (`"key": value` pairs), duplicates counted. */
  members: number;
  /** Where the top-level `"model"` member's value lies, when it is a string: [start, end), its quotes included. */
  modelValue?: readonly [number, number] | undefined;
  /** Where the top-level object closes (its `}`). */
  rootEnd?: number | undefined;
}

/**
 * Refuses JSON text nested deeper than `maxDepth`, naming where (`tools[0].function.parameters…`):
 * deeper structures break recursive readers further on (token estimates, translation) and no
 * real request needs them. One linear pass over the text, with a second, path-keeping pass only
 * when the limit is passed. A string is crossed by `indexOf` to its closing quote: most of a
 * prompt's bytes are in strings, and a look at every character took twice as long as
 * `JSON.parse` of the same 110 KB agent request.
 *
 * The same pass counts members and finds the top-level model, so that a same-format upstream can
 * get the client's own bytes with the model replaced (`rawJsonOf`).
 */
export function scanJsonText(text: string, maxDepth: number): JsonTextFacts {
  let depth = 0;
  let members = 0;
  let modelValue: [number, number] | undefined;
  /** Where the value of a top-level `"model":` begins. */
  let modelValueAt = -1;
  let rootEnd: number | undefined;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code === 34) {
      const start = index;
      let end = text.indexOf('"', index + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      // An unterminated string holds no more structure; JSON.parse refuses the text.
      if (end === -1) break;
      index = end;
      if (depth !== 1) continue;
      if (start === modelValueAt) modelValue = [start, end + 1];
      else if (end - start === 6 && text.startsWith('model', start + 1)) {
        const colon = nextNonSpace(text, end + 1);
        if (text.charCodeAt(colon) === 58) modelValueAt = nextNonSpace(text, colon + 1);
      }
    } else if (code === 58) members++;
    else if (code === 123 || code === 91) {
      if (++depth > maxDepth) {
        const path = pathAt(text, index);
        throw invalidRequest(`The request nests objects and arrays more than ${maxDepth} deep (at ${path}).`, path);
      }
    } else if (code === 125 || code === 93) {
      if (--depth === 0 && code === 125 && rootEnd === undefined) rootEnd = index;
    }
  }
  return { members, modelValue, rootEnd };
}

function nextNonSpace(text: string, from: number): number {
  let index = from;
  while (index < text.length && (text.charCodeAt(index) === 32 || text.charCodeAt(index) === 10 || text.charCodeAt(index) === 13 || text.charCodeAt(index) === 9)) index++;
  return index;
}

/** Whether the quote at `quote` is escaped: an odd run of backslashes before it. */
function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let index = quote - 1; index >= 0 && text.charCodeAt(index) === 92; index--) backslashes++;
  return backslashes % 2 === 1;
}

interface Frame {
  isArray: boolean;
  index: number;
  key: string | undefined;
}

/** The JSON path of the container that opens at `stop`, e.g. `metadata.a.b[0]`. */
function pathAt(text: string, stop: number): string {
  const frames: Frame[] = [];
  let lastString: string | undefined;
  for (let index = 0; index < stop; index++) {
    const code = text.charCodeAt(index);
    if (code === 34) {
      const start = index + 1;
      for (index = start; index < text.length && text.charCodeAt(index) !== 34; index++) if (text.charCodeAt(index) === 92) index++;
      lastString = text.slice(start, Math.min(index, start + 64));
    } else if (code === 58) {
      const frame = frames[frames.length - 1];
      if (frame && !frame.isArray) frame.key = lastString;
    } else if (code === 44) {
      const frame = frames[frames.length - 1];
      if (frame?.isArray) frame.index++;
    } else if (code === 123 || code === 91) frames.push({ isArray: code === 91, index: 0, key: undefined });
    else if (code === 125 || code === 93) frames.pop();
  }
  let path = '';
  for (const frame of frames) {
    if (frame.isArray) path += `[${frame.index}]`;
    else if (frame.key !== undefined) path += path === '' ? frame.key : `.${frame.key}`;
  }
  return path === '' ? '(root)' : path;
}

/**
 * Refuses a model name that cannot travel in a header (Detour answers with `x-detour-route`) or
 * be a sane label: control characters, CR/LF, anything outside printable ASCII, or too long.
 * Checked before any upstream call, so that no tokens are spent on a request that cannot be answered.
 */
export function checkModelName(model: string): void {
  if (model.length > maxModelNameLength) throw invalidRequest(`The model name is longer than ${maxModelNameLength} characters.`, 'model');
  for (let index = 0; index < model.length; index++) {
    const code = model.charCodeAt(index);
    if (code < 0x20 || code > 0x7e) {
      throw invalidRequest('The model name contains characters that cannot be sent in an HTTP header (control characters, line breaks or non-ASCII).', 'model');
    }
  }
}

/** The same limit for a value an in-process caller hands over (no text to scan): an iterative walk. */
export function checkValueDepth(value: unknown, maxDepth: number): void {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number; path: string };
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) {
      const path = item.path || '(root)';
      throw invalidRequest(`The request nests objects and arrays more than ${maxDepth} deep (at ${path}).`, path);
    }
    if (Array.isArray(item.value)) item.value.forEach((child, index) => stack.push({ value: child, depth, path: `${item.path}[${index}]` }));
    else for (const [key, child] of Object.entries(item.value)) if (typeof child === 'object' && child !== null) stack.push({ value: child, depth, path: item.path ? `${item.path}.${key}` : key });
  }
}
