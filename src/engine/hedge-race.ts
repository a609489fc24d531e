/** One side of a hedge: an attempt under way and the means to call it off. */
export interface Contender<T> {
  result: Promise<T>;
  cancel(): void;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export type HedgeOutcome<T> =
  /** The hedge was never sent: the first attempt finished (well or badly) before the timer. */
  | { type: 'unhedged'; primary: Settled<T> }
  /** Both ran; `winner` answered first, the other was cancelled (or had failed). */
  | { type: 'won'; winner: 'primary' | 'hedge'; value: T; loser: Settled<T> | 'cancelled' }
  | { type: 'lost'; primary: Settled<T>; hedge: Settled<T> };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * Runs a hedged attempt: the primary starts now; if it has not answered when `waitForHedge`
 * resolves true (its timer fired and a hedge is wanted), `startHedge` sends the same request to
 * the next target. The first success wins and the other is cancelled; `discard` receives a
 * success that arrived too late, so it can be closed.
 */
export async function hedgeRace<T>(
  primary: Contender<T>,
  waitForHedge: (primaryDone: Promise<unknown>) => Promise<boolean>,
  startHedge: () => Contender<T>,
  discard: (late: T) => void,
): Promise<HedgeOutcome<T>> {
  const primarySettled = settle(primary.result);
  const shouldHedge = await waitForHedge(primarySettled);
  if (!shouldHedge) return { type: 'unhedged', primary: await primarySettled };
  const hedge = startHedge();
  const hedgeSettled = settle(hedge.result);
  const first = await Promise.race([primarySettled.then((result) => ({ side: 'primary' as const, result })), hedgeSettled.then((result) => ({ side: 'hedge' as const, result }))]);
  const [winnerSide, other, otherSettled] = first.side === 'primary' ? (['primary', hedge, hedgeSettled] as const) : (['hedge', primary, primarySettled] as const);
  if (first.result.ok) {
    other.cancel();
    void otherSettled.then((late) => {
      if (late.ok) discard(late.value);
    });
    return { type: 'won', winner: winnerSide, value: first.result.value, loser: 'cancelled' };
  }
  const second = await otherSettled;
  if (second.ok) return { type: 'won', winner: winnerSide === 'primary' ? 'hedge' : 'primary', value: second.value, loser: first.result };
  return first.side === 'primary' ? { type: 'lost', primary: first.result, hedge: second } : { type: 'lost', primary: second, hedge: first.result };
}
