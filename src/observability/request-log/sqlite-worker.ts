import { createRequire } from 'node:module';
import { Worker, type TransferListItem } from 'node:worker_threads';

/**
 * better-sqlite3 is synchronous: a write waits for the disk. To keep a slow or failing disk off
 * the event loop that serves requests, the database lives in a worker thread, and the main
 * thread talks to it by messages. The worker is generic (open, batched parent/child inserts,
 * run, all): the schema and every query stay in typed code on this side.
 *
 * Its source is inlined (`eval`) rather than a separate file, so that it runs unchanged from
 * `src/` under the test runner and from `dist/` once built.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
let db;
const statements = new Map();
function prepared(sql) {
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size > 200) statements.clear();
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}
function handle(message) {
  if (message.op === 'open') {
    db = new Database(message.path);
    for (const pragma of message.pragmas) db.pragma(pragma);
    db.exec(message.schema);
    // Columns added after a database was created: ALTER TABLE once, on the first open by a newer Detour.
    for (const column of message.addColumns ?? []) {
      const known = db.prepare('SELECT name FROM pragma_table_info(?)').all(column.table).map((row) => row.name);
      if (!known.includes(column.name)) db.exec('ALTER TABLE ' + column.table + ' ADD COLUMN ' + column.name + ' ' + column.type);
    }
    return null;
  }
  if (!db) throw new Error('the database is not open');
  if (message.op === 'write') {
    const parent = prepared(message.parentSql);
    const child = prepared(message.childSql);
    const batches = message.chunks.map((bytes, index) => JSON.parse(Buffer.from(bytes, 0, message.lengths[index]).toString('utf8')));
    let count = 0;
    db.transaction(() => {
      for (const records of batches) {
        for (const [row, children] of records) {
          // Values spread, not an array: better-sqlite3 binds arguments faster than an array's elements.
          const id = parent.run(...row).lastInsertRowid;
          for (const values of children) child.run(id, ...values);
        }
        count += records.length;
      }
    })();
    return count;
  }
  if (message.op === 'run') return prepared(message.sql).run(...message.params).changes;
  if (message.op === 'all') return prepared(message.sql).all(...message.params);
  if (message.op === 'pragma') return db.pragma(message.sql);
  if (message.op === 'close') {
    db.close();
    db = undefined;
    return null;
  }
  throw new Error('unknown op ' + message.op);
}
parentPort.on('message', (message) => {
  try {
    parentPort.postMessage({ id: message.id, result: handle(message) });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String((error && error.message) || error), code: error && error.code });
  }
});
`;

export type SqlValue = string | number | null;

/** One parent row and its children's values (the parent's id is prepended to each child). */
export interface ParentChildRecord {
  row: SqlValue[];
  children: SqlValue[][];
}

/**
 * A record as JSON, made when it is queued (into a `RowQueue`, as bytes): the objects behind it
 * die young, and the worker parses a batch in a third of the time structured clone's
 * deserialization of the same rows takes (0.8 against 2.5 µs a record).
 */
export function encodeRecord(record: ParentChildRecord): string {
  return JSON.stringify([record.row, record.children]);
}

export type WorkerRequest =
  | { op: 'open'; path: string; pragmas: string[]; schema: string; addColumns?: ReadonlyArray<{ table: string; name: string; type: string }> }
  /** `chunks`: the batch as `RowQueue` chunks, each a JSON array of records in its first `lengths[i]` bytes (transferred, not copied). */
  | { op: 'write'; parentSql: string; childSql: string; chunks: ArrayBufferLike[]; lengths: number[] }
  | { op: 'run'; sql: string; params: SqlValue[] }
  | { op: 'all'; sql: string; params: SqlValue[] }
  | { op: 'pragma'; sql: string }
  | { op: 'close' };

interface WorkerReply {
  id: number;
  result?: unknown;
  error?: string;
  code?: string;
}

/** An error the database reported (disk full, read-only file, corrupt database…). */
export class SqliteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteError';
  }
}

/** The main thread's handle on the database worker: each call is a promise of the worker's answer. */
export class SqliteWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  private deathCause: Error | undefined;

  constructor(onDeath: (error: Error) => void) {
    const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
    // The worker only moves rows into SQLite: a small young generation keeps its isolate from
    // growing with the request rate (the gateway's whole process is held to a memory budget).
    this.worker = new Worker(workerSource, { eval: true, workerData: { driverPath }, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
    // A forgotten close must not keep the process alive.
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter.reject(new SqliteError(reply.error, reply.code));
      else waiter.resolve(reply.result);
    });
    const die = (error: Error): void => {
      if (this.deathCause) return;
      this.deathCause = error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      onDeath(error);
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`the request log worker exited (code ${code})`)));
  }

  /** `transfer`: memory the message moves to the worker (detached here). */
  call(request: WorkerRequest, transfer?: ArrayBufferLike[]): Promise<unknown> {
    if (this.deathCause) return Promise.reject(this.deathCause);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, transfer as TransferListItem[] | undefined);
    });
  }

  async terminate(): Promise<void> {
    if (!this.deathCause) this.deathCause = new Error('the request log is closed');
    await this.worker.terminate();
  }
}
