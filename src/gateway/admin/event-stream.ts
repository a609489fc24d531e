import type { EventFeed, FeedEvent } from '../../observability/event-feed.js';
import { headerOf, type GatewayRequest, type GatewayResponse } from '../http.js';
import { privateHeaders } from './admin-http.js';

const heartbeatMs = 15_000;
const backlog = 50;
/** Frames held for a viewer that reads slower than events arrive; past this, new ones are skipped. */
const maxQueued = 256;

function frame(event: FeedEvent): string {
  return `id: ${event.id}\nevent: feed\ndata: ${JSON.stringify(event)}\n\n`;
}

/** An open event stream: `end()` finishes it (shutdown), so that an open dashboard never holds a close. */
export interface EventStream {
  response: GatewayResponse;
  end(): void;
}

/**
 * `GET /admin/api/events`: the live feed as server-sent events, the recent backlog first. A
 * viewer that cannot keep up skips events (its queue is bounded) rather than making the server
 * buffer for it; it can catch up from the backlog by reconnecting. The stream ends when the
 * client leaves or `end()` is called.
 */
export function openEventStream(feed: EventFeed, request: GatewayRequest): EventStream {
  const lastSeen = Number(headerOf(request, 'last-event-id'));
  let head = 'retry: 2000\n\n';
  for (const event of feed.recent(backlog)) if (!(event.id <= lastSeen)) head += frame(event);
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let isOver = false;
  const push = (text: string): void => {
    if (queue.length < maxQueued) queue.push(text);
    wake?.();
  };
  const end = (): void => {
    isOver = true;
    wake?.();
  };
  const unsubscribe = feed.subscribe((event) => push(frame(event)));
  const heartbeat = setInterval(() => push(': keep-alive\n\n'), heartbeatMs);
  const stop = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
    request.signal.removeEventListener('abort', close);
  };
  // A stream never pulled (its client left at once) has no running generator to clean up after it.
  const close = (): void => {
    end();
    stop();
  };
  request.signal.addEventListener('abort', close, { once: true });
  async function* frames(): AsyncGenerator<string, void, undefined> {
    try {
      for (;;) {
        while (queue.length > 0 && !isOver) yield queue.shift() as string;
        if (isOver) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      stop();
    }
  }
  const rest = frames();
  const response: GatewayResponse = {
    status: 200,
    headers: { ...privateHeaders, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' },
    body: { type: 'stream', head, rest },
  };
  return {
    response,
    end: close,
  };
}
