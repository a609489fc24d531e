import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IngressCodec } from '../providers/types.js';
import { answerChat } from './chat-request.js';
import type { ServerOptions } from './http-server.js';
import { readBody } from './read-body.js';
import { requestIdFor } from './request-id.js';
import { sendJson, sendResult } from './respond.js';

/**
 * One chat request in any ingress format over HTTP: the shared request path (`answerChat`)
 * with a socket on either side. Every client error is answered in the client's format and
 * never reaches an upstream.
 */
export async function handleChat(codec: IngressCodec, request: IncomingMessage, response: ServerResponse, options: ServerOptions): Promise<void> {
  const closed = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) closed.abort();
  });
  const call = { engine: options.engine, codec, requestId: requestIdFor(request), receivedAt: Date.now(), signal: closed.signal };
  const answer = await answerChat(call, () => readBody(request, options.maxBodyBytes));
  if (!answer) return;
  if (answer.type === 'rejected') {
    // The rest of an oversized body is not read: the connection cannot be reused after it.
    const headers = answer.code === 'BODY_TOO_LARGE' ? { ...answer.headers, connection: 'close' } : answer.headers;
    sendJson(response, answer.status, answer.body, headers);
    return;
  }
  await sendResult(response, answer);
}
