/**
 * Rows waiting for the request log's worker, kept as JSON bytes outside the JavaScript heap.
 *
 * A row waits up to a batch (1,000 rows, or `log.flush_interval_ms`) before it is written, which
 * is longer than two young-generation collections under load, so a row kept as a string was
 * promoted to old space and left there as garbage: about half of what the gateway promoted per
 * request. Written into a chunk as soon as it is made, the string dies young; the chunk itself
 * is memory outside the heap, handed to the worker without a copy (transferred) and freed there.
 */

/** Queued rows as `[row,row,…]` in `bytes[0, length)` once taken. */
export interface RowChunk {
  readonly bytes: Buffer;
  length: number;
  rows: number;
}

/** A chunk's room; a row larger than that gets a chunk of its own size. */
const chunkBytes = 1 << 20;
const openBracket = 0x5b;
const comma = 0x2c;
const closeBracket = 0x5d;

export class RowQueue {
  private chunks: RowChunk[] = [];
  private count = 0;

  /** @param rowsPerChunk the batch size: a chunk is closed at this many rows, so that one chunk is one batch */
  constructor(private readonly rowsPerChunk: number) {}

  /** Rows queued. */
  get length(): number {
    return this.count;
  }

  /** Queues one row's JSON text. */
  push(json: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the separator and the closing bracket one each.
    const worstCase = json.length * 3 + 2;
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || chunk.rows >= this.rowsPerChunk || chunk.length + worstCase > chunk.bytes.length) {
      // Its own memory (not the shared pool's slab), so that it can be transferred.
      chunk = { bytes: Buffer.allocUnsafeSlow(Math.max(chunkBytes, worstCase + 1)), length: 0, rows: 0 };
      this.chunks.push(chunk);
    }
    chunk.bytes[chunk.length++] = chunk.rows === 0 ? openBracket : comma;
    chunk.length += chunk.bytes.write(json, chunk.length);
    chunk.rows++;
    this.count++;
  }

  /**
   * Takes chunks from the front, oldest first: at least one, and more while their rows stay within
   * `maxRows` (a backlog is written in larger transactions). Each is closed as a JSON array.
   */
  take(maxRows: number): RowChunk[] {
    let rows = 0;
    let end = 0;
    while (end < this.chunks.length && (end === 0 || rows + this.chunks[end]!.rows <= maxRows)) rows += this.chunks[end++]!.rows;
    const taken = this.chunks.splice(0, end);
    for (const chunk of taken) chunk.bytes[chunk.length++] = closeBracket;
    this.count -= rows;
    return taken;
  }

  /** Drops every queued row; returns how many there were. */
  clear(): number {
    const dropped = this.count;
    this.chunks = [];
    this.count = 0;
    return dropped;
  }
}
