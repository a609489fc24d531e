/** A component's state as the status page names it. */
export type ComponentStatus = 'healthy' | 'degraded' | 'down';

const minuteMs = 60_000;
const dayMs = 86_400_000;
/** Minute detail is kept a week (24 h and 7 d uptime); days are kept for the 90-day bars. */
const ringMinutes = 7 * 24 * 60;
export const historyDays = 90;
/**
 * A gap between two samples longer than this was not observed (the process was stopped or
 * stalled): only this much of it is counted, in the status seen at its end.
 */
const maxStepMs = 15_000;

/** Time spent in each status, in milliseconds. */
export interface StatusTally {
  healthyMs: number;
  degradedMs: number;
  downMs: number;
}

/** One component's minute, as the request log stores it. */
export interface StatusMinuteRow extends StatusTally {
  /** `route:chat`, `provider:openai`. */
  component: string;
  /** Minutes since the epoch. */
  minute: number;
}

/**
 * Where finished minutes are kept across restarts: the request log's database. Each row saved is
 * time not saved before, so the store adds it to what it holds for that minute.
 */
export interface StatusHistoryStore {
  saveStatusMinutes(rows: readonly StatusMinuteRow[]): void;
  loadStatusMinutes(sinceMinute: number): Promise<StatusMinuteRow[]>;
}

const empty = (): StatusTally => ({ healthyMs: 0, degradedMs: 0, downMs: 0 });
const observedOf = (tally: StatusTally): number => tally.healthyMs + tally.degradedMs + tally.downMs;

function add(into: StatusTally, from: StatusTally): void {
  into.healthyMs += from.healthyMs;
  into.degradedMs += from.degradedMs;
  into.downMs += from.downMs;
}

function addStatus(into: StatusTally, status: ComponentStatus, ms: number): void {
  if (status === 'healthy') into.healthyMs += ms;
  else if (status === 'degraded') into.degradedMs += ms;
  else into.downMs += ms;
}

/** A component's history: a week of minutes in a fixed ring, 90 days of days. */
class ComponentHistory {
  private readonly minuteOf = new Float64Array(ringMinutes).fill(-1);
  private readonly healthy = new Float64Array(ringMinutes);
  private readonly degraded = new Float64Array(ringMinutes);
  private readonly down = new Float64Array(ringMinutes);
  readonly days = new Map<number, StatusTally>();
  firstMinute: number | undefined;

  add(minute: number, tally: StatusTally): void {
    if (observedOf(tally) === 0) return;
    this.firstMinute = this.firstMinute === undefined ? minute : Math.min(this.firstMinute, minute);
    const slot = minute % ringMinutes;
    if (this.minuteOf[slot] !== minute) {
      // An older minute than the one in the slot is outside the week: it counts for its day only.
      if ((this.minuteOf[slot] ?? -1) > minute) return this.addDay(minute, tally);
      this.minuteOf[slot] = minute;
      this.healthy[slot] = 0;
      this.degraded[slot] = 0;
      this.down[slot] = 0;
    }
    this.healthy[slot] = (this.healthy[slot] ?? 0) + tally.healthyMs;
    this.degraded[slot] = (this.degraded[slot] ?? 0) + tally.degradedMs;
    this.down[slot] = (this.down[slot] ?? 0) + tally.downMs;
    this.addDay(minute, tally);
  }

  minute(minute: number): StatusTally | undefined {
    const slot = minute % ringMinutes;
    if (this.minuteOf[slot] !== minute) return undefined;
    return { healthyMs: this.healthy[slot] ?? 0, degradedMs: this.degraded[slot] ?? 0, downMs: this.down[slot] ?? 0 };
  }

  /** The minutes from `from` to `to` (inclusive) that have data, summed. */
  sumMinutes(from: number, to: number): StatusTally {
    const total = empty();
    for (let minute = Math.max(from, to - ringMinutes + 1); minute <= to; minute++) {
      const tally = this.minute(minute);
      if (tally) add(total, tally);
    }
    return total;
  }

  private addDay(minute: number, tally: StatusTally): void {
    const day = Math.floor((minute * minuteMs) / dayMs);
    const entry = this.days.get(day) ?? empty();
    add(entry, tally);
    this.days.set(day, entry);
    if (this.days.size > historyDays + 1) {
      const oldest = Math.min(...this.days.keys());
      this.days.delete(oldest);
    }
  }
}

/** Uptime over a window: the share of the observed time the component was operational. */
export interface WindowUptime {
  /** Healthy time over observed time; null before any observation. */
  uptime: number | null;
  /** The time covered: from the first observed minute in the window to now. */
  coveredMs: number;
  /** What the figure covers, for people: `24 h` when the whole window, else `last 11 min`. */
  label: string;
  downMs: number;
  degradedMs: number;
  observedMs: number;
}

/** One day of the 90-day bars. */
export interface DayUptime {
  date: string;
  uptime: number | null;
  downMs: number;
  degradedMs: number;
  observedMs: number;
}

/** `last 11 min`, `last 5 h`, `last 3 d`. */
export function periodLabel(coveredMs: number): string {
  if (coveredMs < 90 * minuteMs) return `last ${Math.max(1, Math.round(coveredMs / minuteMs))} min`;
  if (coveredMs < 48 * 3_600_000) return `last ${Math.round(coveredMs / 3_600_000)} h`;
  return `last ${Math.round(coveredMs / dayMs)} d`;
}

function windowName(windowMs: number): string {
  return windowMs % dayMs === 0 && windowMs > dayMs ? `${windowMs / dayMs} d` : windowMs % 3_600_000 === 0 ? `${windowMs / 3_600_000} h` : `${Math.round(windowMs / minuteMs)} min`;
}

/**
 * Every component's status over time, counted as it was observed: each sample adds the time
 * since the previous one to the status seen now, minute by minute. Uptime is the healthy share
 * of the observed time, so a degraded minute lowers it as a down one does (a status of
 * "degraded" beside 100 % would contradict itself), and both are reported apart. Finished minutes
 * go to the store, so that a restart keeps the history.
 */
export class StatusHistory {
  private readonly components = new Map<string, ComponentHistory>();
  /** The minute being filled, per component, until it is finished and saved. */
  private readonly open = new Map<string, { minute: number; tally: StatusTally }>();
  private lastSampleAt: number | undefined;
  /** Minutes finished before the stored history was loaded: saved after it, or the load would count them twice. */
  private unsaved: StatusMinuteRow[] | undefined;

  constructor(private readonly store?: StatusHistoryStore) {
    if (store) this.unsaved = [];
  }

  /** Loads what the store kept (the last 90 days) and adds it to what was seen since the start. Never rejects. */
  async load(now: number): Promise<void> {
    if (!this.store || this.unsaved === undefined) return;
    try {
      const since = Math.floor((now - historyDays * dayMs) / minuteMs);
      for (const row of await this.store.loadStatusMinutes(since)) this.history(row.component).add(row.minute, row);
    } catch {
      // No stored history (the log is unavailable): the page shows what this process saw, and says over what period.
    } finally {
      const pending = this.unsaved;
      this.unsaved = undefined;
      if (pending.length > 0) this.store.saveStatusMinutes(pending);
    }
  }

  private save(rows: StatusMinuteRow[]): void {
    if (rows.length === 0) return;
    if (this.unsaved) this.unsaved.push(...rows);
    else this.store?.saveStatusMinutes(rows);
  }

  /** Records the statuses seen at `now`, each for the time since the previous sample. */
  sample(now: number, statuses: ReadonlyMap<string, ComponentStatus>): void {
    const stepMs = this.lastSampleAt === undefined ? 0 : Math.min(maxStepMs, Math.max(0, now - this.lastSampleAt));
    this.lastSampleAt = now;
    const minute = Math.floor(now / minuteMs);
    const finished: StatusMinuteRow[] = [];
    for (const [component, status] of statuses) {
      const current = this.open.get(component);
      if (current && current.minute !== minute) {
        finished.push(this.close(component, current));
        this.open.delete(component);
      }
      const entry = this.open.get(component) ?? { minute, tally: empty() };
      addStatus(entry.tally, status, stepMs);
      this.open.set(component, entry);
      if (this.history(component).firstMinute === undefined) this.history(component).firstMinute = minute;
    }
    this.save(finished);
  }

  /** Saves the minute being filled (shutdown): the next start adds to it. */
  flush(): void {
    const rows = [...this.open].map(([component, entry]) => this.close(component, entry));
    this.open.clear();
    this.save(rows);
  }

  window(component: string, now: number, windowMs: number): WindowUptime {
    const history = this.components.get(component);
    const last = Math.floor(now / minuteMs);
    const first = last - Math.ceil(windowMs / minuteMs) + 1;
    const total = empty();
    if (history) {
      if (windowMs <= ringMinutes * minuteMs) add(total, history.sumMinutes(first, last));
      else for (const [day, tally] of history.days) if (day * dayMs >= now - windowMs) add(total, tally);
    }
    const open = this.open.get(component);
    if (open) add(total, open.tally);
    const observedMs = observedOf(total);
    const since = history?.firstMinute === undefined ? undefined : Math.max(history.firstMinute * minuteMs, now - windowMs);
    const coveredMs = since === undefined ? 0 : Math.min(windowMs, now - since);
    return {
      uptime: observedMs === 0 ? null : total.healthyMs / observedMs,
      coveredMs,
      label: coveredMs >= windowMs - minuteMs ? windowName(windowMs) : periodLabel(coveredMs),
      downMs: total.downMs,
      degradedMs: total.degradedMs,
      observedMs,
    };
  }

  /** The last 90 days, oldest first, one entry per UTC day (null uptime for days without data). */
  days(component: string, now: number): DayUptime[] {
    const history = this.components.get(component);
    const today = Math.floor(now / dayMs);
    const open = this.open.get(component);
    const out: DayUptime[] = [];
    for (let day = today - historyDays + 1; day <= today; day++) {
      const tally = { ...(history?.days.get(day) ?? empty()) };
      if (open && Math.floor((open.minute * minuteMs) / dayMs) === day) add(tally, open.tally);
      const observedMs = observedOf(tally);
      out.push({ date: new Date(day * dayMs).toISOString().slice(0, 10), uptime: observedMs === 0 ? null : tally.healthyMs / observedMs, downMs: tally.downMs, degradedMs: tally.degradedMs, observedMs });
    }
    return out;
  }

  private close(component: string, entry: { minute: number; tally: StatusTally }): StatusMinuteRow {
    this.history(component).add(entry.minute, entry.tally);
    return { component, minute: entry.minute, ...entry.tally };
  }

  private history(component: string): ComponentHistory {
    let history = this.components.get(component);
    if (!history) {
      history = new ComponentHistory();
      this.components.set(component, history);
    }
    return history;
  }
}
