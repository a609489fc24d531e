import type { Socket } from 'node:net';
import { ingressCodecs } from '../providers/registry.js';
import type { IngressCodec } from '../providers/types.js';

/** Node's parser errors, in HTTP terms. */
type ParserRefusal = 'BAD_REQUEST' | 'HEADERS_TOO_LARGE' | 'REQUEST_TIMEOUT';

/** A request the parser refused, as far as its bytes tell: for the log, the metrics and the request log. */
export interface TransportRefusal {
  method: string;
  /** Empty when the request line never arrived. */
  path: string;
  userAgent?: string | undefined;
  status: number;
  code: ParserRefusal;
  message: string;
}

function statusOf(code: string | undefined): { status: number; code: ParserRefusal; reason: string; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'HEADERS_TOO_LARGE', reason: 'Request Header Fields Too Large', message: 'The request headers are larger than this server accepts.' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'REQUEST_TIMEOUT', reason: 'Request Timeout', message: 'The request did not arrive in time.' };
  return { status: 400, code: 'BAD_REQUEST', reason: 'Bad Request', message: 'The request is not valid HTTP.' };
}

/**
 * Answers what Node's HTTP parser refuses (malformed requests 400, oversized headers 431, slow
 * requests 408) with a body in the client's own error format rather than Node's empty one. The
 * request never parsed, so the format is guessed from the bytes that did arrive: a `/v1beta/`
 * path means Gemini's shape, an Anthropic path or header Anthropic's, anything else OpenAI's.
 */
export function answerClientError(error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket, report?: (refused: TransportRefusal) => void): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const answer = statusOf(error.code);
  const head = error.rawPacket?.subarray(0, 4096).toString('latin1') ?? '';
  const line = /^([A-Z]{1,20}) (\S+) HTTP\/\d/.exec(head);
  const path = line?.[2]?.split('?')[0] ?? '';
  report?.({ method: line?.[1] ?? '', path, userAgent: /\r\nuser-agent: *([^\r\n]*)/i.exec(head)?.[1], status: answer.status, code: answer.code, message: answer.message });
  const isAnthropic = path.startsWith('/v1/messages') || /\r\nanthropic-version:/i.test(head);
  const format = path.startsWith('/v1beta/') ? 'gemini' : isAnthropic ? 'anthropic' : 'openai';
  const codec = (ingressCodecs[format] ?? ingressCodecs.openai) as IngressCodec;
  const body = codec.encodeError({ status: answer.status, code: answer.code, message: answer.message });
  socket.end(`HTTP/1.1 ${answer.status} ${answer.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
