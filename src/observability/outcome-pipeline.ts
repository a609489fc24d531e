import type { EventBus, RequestFinishedEvent } from '../core/events.js';
import { tokenCounts, type CostCalculator } from './cost.js';
import type { Logger } from './logger.js';
import { classifyStatus, toOutcome, type RequestOutcome } from './outcome.js';

export type OutcomeConsumer = (outcome: RequestOutcome) => void;

/** Finished requests held for enrichment; beyond this (a stalled event loop), new ones are counted and dropped. */
const maxPending = 20_000;

/**
 * Takes `request.finished` off the request path: the listener only queues the event, and the
 * queue is drained on a later turn of the event loop, where usage is read (parsing a
 * pass-through body), cost computed once, and the outcome handed to every consumer (metrics,
 * statistics, request log, alerts). A consumer that throws is isolated from the others.
 */
export class OutcomePipeline {
  private pending: RequestFinishedEvent[] = [];
  private isScheduled = false;
  private readonly consumers: OutcomeConsumer[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    events: EventBus,
    private readonly cost: CostCalculator,
    private readonly logger: Logger,
    /** Told of each event dropped because the queue was full. */
    private readonly onDrop: () => void = () => undefined,
  ) {
    this.unsubscribe = events.on('request.finished', (event) => this.enqueue(event));
  }

  add(consumer: OutcomeConsumer): void {
    this.consumers.push(consumer);
  }

  /** Processes everything queued now (tests, shutdown). */
  drain(): void {
    const batch = this.pending;
    this.pending = [];
    this.isScheduled = false;
    for (const event of batch) this.process(event);
  }

  close(): void {
    this.unsubscribe();
    this.drain();
  }

  private enqueue(event: RequestFinishedEvent): void {
    if (this.pending.length >= maxPending) {
      this.onDrop();
      return;
    }
    this.pending.push(event);
    if (!this.isScheduled) {
      this.isScheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private process(event: RequestFinishedEvent): void {
    let tokens;
    try {
      tokens = tokenCounts(event.usage());
    } catch {
      // An unreadable body has no usage; the request itself is still counted.
      tokens = undefined;
    }
    const cost = this.cost.requestCost({ model: event.model, tokens, isSuccess: classifyStatus(event.status) === 'success', attempts: event.attempts });
    const outcome = toOutcome(event, tokens, cost);
    for (const consumer of this.consumers) {
      try {
        consumer(outcome);
      } catch (error) {
        this.logger.error({ err: error, requestId: event.requestId }, 'observability consumer failed');
      }
    }
  }
}
