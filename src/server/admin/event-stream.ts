import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventFeed, FeedEvent } from '../../observability/event-feed.js';
import { privateHeaders } from './admin-http.js';

const heartbeatMs = 15_000;
const backlog = 50;

function frame(event: FeedEvent): string {
  return `id: ${event.id}\nevent: feed\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * `GET /admin/api/events`: the live feed as server-sent events, the recent backlog first. A
 * viewer that cannot keep up (its socket buffer is full) skips events until it drains rather
 * than making the server buffer for it; it can catch up from the backlog by reconnecting.
 */
export function serveEventStream(feed: EventFeed, request: IncomingMessage, response: ServerResponse): () => void {
  response.writeHead(200, { ...privateHeaders, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const lastSeen = Number(request.headers['last-event-id']);
  let isBackedUp = false;
  const write = (text: string): void => {
    if (isBackedUp || response.destroyed) return;
    if (!response.write(text)) {
      isBackedUp = true;
      response.once('drain', () => {
        isBackedUp = false;
      });
    }
  };
  write('retry: 2000\n\n');
  for (const event of feed.recent(backlog)) if (!(event.id <= lastSeen)) write(frame(event));
  const unsubscribe = feed.subscribe((event) => write(frame(event)));
  const heartbeat = setInterval(() => write(': keep-alive\n\n'), heartbeatMs);
  response.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
  // Ends the stream (shutdown): an open dashboard must not hold the server's close.
  return () => response.end();
}
