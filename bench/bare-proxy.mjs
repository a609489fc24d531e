#!/usr/bin/env node
// The runtime's limit for one proxy hop: node:http in front of one undici Pool, request and
// response bodies piped, nothing parsed, nothing decided. Written for the bench (the `bare` row)
// so that Detour's figures are a ratio to what Node itself can do on this machine.
//   node bench/bare-proxy.mjs --upstream http://127.0.0.1:9100 [--port 0] [--host 127.0.0.1]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({ options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });
if (!values.upstream) throw new Error('--upstream URL is required');

const pool = new Pool(values.upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function forwardedHeaders(raw) {
  const headers = {};
  for (const name in raw) if (!hopByHop.has(name)) headers[name] = raw[name];
  return headers;
}

const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
  pool.stream(
    { method: request.method, path: request.url, headers: forwardedHeaders(request.headers), body: request.method === 'GET' || request.method === 'HEAD' ? undefined : request },
    ({ statusCode, headers }) => {
      response.writeHead(statusCode, forwardedHeaders(headers));
      return response;
    },
    (error) => {
      if (!error) return;
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end('{"error":{"message":"upstream failed"}}');
      } else response.destroy();
    },
  );
});

server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address();
  process.stdout.write(`bare proxy listening on http://${address}:${port}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
