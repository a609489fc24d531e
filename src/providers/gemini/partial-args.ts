import { isRecord } from '../shared/json.js';

/**
 * Applies argument pieces of a streamed function call (Vertex `streamFunctionCallArguments`):
 * each piece names a place in the arguments by a JSON path (`$.location`, `$.items[0].name`)
 * and a value; string values arrive in fragments that are appended. Returns false when a
 * piece cannot be read, so that the caller can refuse the stream rather than guess.
 */
export function applyPartialArgs(args: Record<string, unknown>, pieces: readonly unknown[]): boolean {
  for (const piece of pieces) {
    if (!isRecord(piece) || typeof piece.jsonPath !== 'string') return false;
    const path = parseJsonPath(piece.jsonPath);
    if (path === undefined || path.length === 0) return false;
    const value = pieceValue(piece);
    if (value === undefined || !assign(args, path, value)) return false;
  }
  return true;
}

type PieceValue = { kind: 'append'; text: string } | { kind: 'set'; value: number | boolean | null };

function pieceValue(piece: Record<string, unknown>): PieceValue | undefined {
  if (typeof piece.stringValue === 'string') return { kind: 'append', text: piece.stringValue };
  if (typeof piece.numberValue === 'number') return { kind: 'set', value: piece.numberValue };
  if (typeof piece.boolValue === 'boolean') return { kind: 'set', value: piece.boolValue };
  if ('nullValue' in piece) return { kind: 'set', value: null };
  return undefined;
}

type Segment = string | number;

const segmentPattern = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;

export function parseJsonPath(path: string): Segment[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: Segment[] = [];
  segmentPattern.lastIndex = 1;
  while (segmentPattern.lastIndex < path.length) {
    const start = segmentPattern.lastIndex;
    const match = segmentPattern.exec(path);
    if (!match || match.index !== start) return undefined;
    const [, name, index, single, double] = match;
    segments.push(index !== undefined ? Number(index) : (name ?? single ?? double ?? ''));
  }
  return segments;
}

function assign(root: Record<string, unknown>, path: readonly Segment[], value: PieceValue): boolean {
  let container: Record<string, unknown> | unknown[] = root;
  for (let position = 0; position < path.length - 1; position++) {
    const key = path[position] as Segment;
    const nextIsIndex = typeof path[position + 1] === 'number';
    let child: unknown = read(container, key);
    if (child === undefined) {
      child = nextIsIndex ? [] : {};
      if (!write(container, key, child)) return false;
    }
    if (!isRecord(child) && !Array.isArray(child)) return false;
    container = child;
  }
  const last = path[path.length - 1] as Segment;
  if (value.kind === 'set') return write(container, last, value.value);
  const existing = read(container, last);
  return write(container, last, (typeof existing === 'string' ? existing : '') + value.text);
}

function read(container: Record<string, unknown> | unknown[], key: Segment): unknown {
  if (Array.isArray(container)) return typeof key === 'number' ? container[key] : undefined;
  return typeof key === 'string' ? container[key] : undefined;
}

function write(container: Record<string, unknown> | unknown[], key: Segment, value: unknown): boolean {
  if (Array.isArray(container) !== (typeof key === 'number')) return false;
  (container as Record<Segment, unknown>)[key] = value;
  return true;
}
