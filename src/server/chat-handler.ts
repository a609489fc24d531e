import type { IncomingMessage, ServerResponse } from 'node:http';
import { DetourError, invalidRequest } from '../core/errors.js';
import type { IngressCodec } from '../providers/types.js';
import type { ServerOptions } from './http-server.js';
import { readBody } from './read-body.js';
import { requestIdFor } from './request-id.js';
import { sendJson, sendResult } from './respond.js';

/**
 * One chat request in any ingress format: read, parse, validate, hand to the engine, write
 * the answer. Every client error is answered here in the client's format and never reaches
 * an upstream.
 */
export async function handleChat(codec: IngressCodec, request: IncomingMessage, response: ServerResponse, options: ServerOptions): Promise<void> {
  const requestId = requestIdFor(request);
  const receivedAt = Date.now();
  const closed = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) closed.abort();
  });
  try {
    const raw = await readBody(request, options.maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw invalidRequest('The request body is not valid JSON.', undefined, 'INVALID_JSON');
    }
    const { route, stream, wantsUsage } = codec.inspectRequest(body);
    const result = await options.engine.handle({
      id: requestId,
      codec,
      body: body as Record<string, unknown>,
      route,
      stream,
      wantsUsage,
      signal: closed.signal,
      receivedAt,
    });
    await sendResult(response, result);
  } catch (error) {
    if (!(error instanceof DetourError)) throw error;
    if (error.code === 'CLIENT_CLOSED') return;
    const status = error.status ?? 400;
    const headers: Record<string, string> = { 'x-request-id': requestId };
    if (error.code === 'BODY_TOO_LARGE') headers.connection = 'close';
    sendJson(response, status, codec.encodeError({ status, code: error.code, message: error.message, param: error.param }), headers);
  }
}
