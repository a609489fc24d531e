#!/usr/bin/env node
// The least work a gateway that keeps the promises must do, written for the bench (the
// `floor` row) as plainly as the bare proxy: where `bare` pipes bytes, this reads each body whole,
// parses and checks the client's JSON, gives every request one deadline (a timer and an
// AbortController), checks the upstream's answer (UTF-8, JSON, the promised shape, its usage;
// every streamed event parsed), counts the request, and logs one row per request into the same
// SQLite table as Detour's request log, batched, on a worker thread. No routing, no retries, no
// breakers, no metrics endpoint, no translation: what is left between `floor` and Detour is the
// price of those.
//   node bench/floor-proxy.mjs --upstream http://127.0.0.1:9100 [--port 0] [--host 127.0.0.1]
import { isUtf8 } from 'node:buffer';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });
if (!values.upstream) throw new Error('--upstream URL is required');

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { insertRequestSql, openPragmas, schemaSql } = await import(join(root, 'dist', 'observability', 'request-log', 'log-schema.js'));

const maxBodyBytes = 32 * 1024 * 1024;
const deadlineMs = 60_000;
const pool = new Pool(values.upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });

// Rows wait as JSON lines and go to the worker a batch at a time (1000 rows or 500 ms), as Detour's do.
const logDirectory = mkdtempSync(join(tmpdir(), 'floor-proxy-'));
const worker = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const Database = require(workerData.driver);
   const db = new Database(workerData.path);
   for (const pragma of workerData.pragmas) db.pragma(pragma);
   db.exec(workerData.schema);
   const insert = db.prepare(workerData.insert);
   const write = db.transaction((rows) => { for (const row of rows) insert.run(row); });
   parentPort.on('message', (batch) => write(JSON.parse('[' + batch + ']')));`,
  { eval: true, workerData: { driver: join(root, 'node_modules', 'better-sqlite3'), path: join(logDirectory, 'log.sqlite'), pragmas: openPragmas, schema: schemaSql, insert: insertRequestSql } },
);
let pendingRows = [];
function logRow(row) {
  pendingRows.push(JSON.stringify(row));
  if (pendingRows.length >= 1000) flushRows();
}
function flushRows() {
  if (pendingRows.length === 0) return;
  worker.postMessage(pendingRows.join(','));
  pendingRows = [];
}
setInterval(flushRows, 500).unref();

const requestCounts = new Map();
let requestNumber = 0;
const idPrefix = `req_${process.pid.toString(16)}_`;

function answerError(response, status, message) {
  const body = JSON.stringify({ error: { message, type: status < 500 ? 'invalid_request_error' : 'api_error' } });
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
  return status;
}

function readWhole(stream, limit) {
  return new Promise((done, fail) => {
    const chunks = [];
    let size = 0;
    stream.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) stream.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    stream.on('end', () => done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    stream.on('error', fail);
  });
}

/** The client's request: JSON, an object with a model, and messages or input. */
function checkedRequest(bytes) {
  if (!isUtf8(bytes)) return undefined;
  let body;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const isShaped = typeof body === 'object' && body !== null && typeof body.model === 'string' && (Array.isArray(body.messages) || body.input !== undefined);
  return isShaped ? body : undefined;
}

/** A whole answer: UTF-8 JSON of the shape promised (`choices` or `output`), not an error object. */
function checkedAnswer(bytes) {
  if (bytes.length === 0 || !isUtf8(bytes)) return undefined;
  let json;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || json.error) return undefined;
  return Array.isArray(json.choices) || Array.isArray(json.output) ? json : undefined;
}

/** Forwards a stream event by event as it arrives, parsing each `data:` line; the last usage seen is the answer's. */
async function relayStream(upstreamBody, response) {
  let tail = '';
  let usage;
  for await (const chunk of upstreamBody) {
    response.write(chunk);
    const text = tail + chunk.toString('utf8');
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]' || data === '') continue;
      const event = JSON.parse(data);
      usage = event.usage ?? event.response?.usage ?? usage;
    }
  }
  response.end();
  return usage;
}

async function serve(request, response) {
  const startedAt = Date.now();
  const requestId = `${idPrefix}${(++requestNumber).toString(16).padStart(16, '0')}`;
  const bytes = await readWhole(request, maxBodyBytes);
  const body = checkedRequest(bytes);
  let status;
  let usage;
  if (!body) status = answerError(response, 400, 'the body is not a JSON request of this endpoint');
  else {
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(), deadlineMs);
    try {
      const answer = await pool.request({ method: 'POST', path: request.url, headers: { 'content-type': 'application/json' }, body: bytes, signal: abort.signal });
      if (answer.statusCode !== 200) {
        await answer.body.dump();
        status = answerError(response, 502, `upstream answered ${answer.statusCode}`);
      } else if (body.stream === true) {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        usage = await relayStream(answer.body, response);
        status = 200;
      } else {
        const answerBytes = await readWhole(answer.body, maxBodyBytes);
        const json = checkedAnswer(answerBytes);
        if (!json) status = answerError(response, 502, 'upstream answered 200 with a body that is not a valid answer');
        else {
          usage = json.usage;
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': answerBytes.length, 'x-request-id': requestId });
          response.end(answerBytes);
          status = 200;
        }
      }
    } catch {
      status = response.headersSent ? 502 : answerError(response, 502, 'upstream failed');
      if (response.headersSent) response.destroy();
    } finally {
      clearTimeout(deadline);
    }
  }
  const model = body?.model ?? null;
  const key = `${model}\u0000${status}`;
  requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
  const inputTokens = usage?.prompt_tokens ?? usage?.input_tokens ?? null;
  const outputTokens = usage?.completion_tokens ?? usage?.output_tokens ?? null;
  // The columns of Detour's `requests` table, in its order (log-schema.ts).
  logRow([requestId, startedAt, 'floor', null, 'openai', body?.stream === true ? 1 : 0, 'floor/upstream', 'upstream', model, status, null, null, 0, 0, Date.now() - startedAt, null, inputTokens, outputTokens, null, null, 0, 0, 0, null, null, null, null, null]);
}

const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
  serve(request, response).catch(() => response.destroy());
});

server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address();
  process.stdout.write(`floor proxy listening on http://${address}:${port}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  flushRows();
  void Promise.allSettled([pool.close(), worker.terminate()]).finally(() => {
    rmSync(logDirectory, { recursive: true, force: true });
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
