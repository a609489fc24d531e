export type ComponentStatus = 'healthy' | 'degraded' | 'down';

const codes: Record<ComponentStatus, number> = { healthy: 0, degraded: 1, down: 2 };
const minuteMs = 60_000;
const weekMinutes = 7 * 24 * 60;

/**
 * A component's status minute by minute over a week: the worst status sampled in each minute.
 * Uptime is the share of observed minutes that were not down (a degraded minute still served).
 * Memory is fixed: two typed arrays of a week of minutes.
 */
export class UptimeRing {
  private readonly worst = new Uint8Array(weekMinutes);
  private readonly minuteOf = new Float64Array(weekMinutes).fill(-1);

  sample(now: number, status: ComponentStatus): void {
    const minute = Math.floor(now / minuteMs);
    const slot = minute % weekMinutes;
    const code = codes[status];
    if (this.minuteOf[slot] !== minute) {
      this.minuteOf[slot] = minute;
      this.worst[slot] = code;
    } else if (code > (this.worst[slot] ?? 0)) {
      this.worst[slot] = code;
    }
  }

  /** Share of the observed minutes of the last `windowMs` that were not down; null before any sample. */
  uptime(now: number, windowMs: number): number | null {
    const last = Math.floor(now / minuteMs);
    const span = Math.min(weekMinutes, Math.ceil(windowMs / minuteMs));
    let observed = 0;
    let down = 0;
    for (let minute = last - span + 1; minute <= last; minute++) {
      const slot = ((minute % weekMinutes) + weekMinutes) % weekMinutes;
      if (this.minuteOf[slot] !== minute) continue;
      observed++;
      if (this.worst[slot] === codes.down) down++;
    }
    return observed === 0 ? null : (observed - down) / observed;
  }
}
