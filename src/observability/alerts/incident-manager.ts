import type { Clock } from '../../core/clock.js';
import type { AlertMessage, Incident, IncidentSignal } from './incident.js';

const maxNotes = 20;
const maxResolved = 200;

interface Active {
  incident: Incident;
  isAnnounced: boolean;
  /** Since when the problem has looked gone; resolved once that lasts `resolveAfterMs`. */
  clearingSince: number | null;
}

export interface ResolvedIncident {
  incident: Incident;
  resolvedAt: number;
}

/**
 * Deduplicates problems into incidents. The first signal of a key opens an incident; later
 * signals only update it. It is announced a moment later (`announceAfterMs`), once the requests
 * in flight have shown which target took over and with what error, so that the alert can say
 * so. A clear starts a hold-down: only when no signal came back for `resolveAfterMs` is the
 * incident resolved and its recovery announced, so that a flapping target is one incident, not
 * an alert per flap; one gone before it was announced is dropped quietly.
 */
export class IncidentManager {
  private readonly active = new Map<string, Active>();
  private readonly resolved: ResolvedIncident[] = [];
  private readonly listeners: Array<(message: AlertMessage) => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly resolveAfterMs: number,
    private readonly announceAfterMs = 1000,
  ) {}

  onMessage(listener: (message: AlertMessage) => void): void {
    this.listeners.push(listener);
  }

  raise(signal: IncidentSignal): void {
    const now = this.clock.now();
    const existing = this.active.get(signal.key);
    if (existing) {
      existing.clearingSince = null;
      const incident = existing.incident;
      incident.lastSeenAt = now;
      if (signal.error !== undefined) incident.error = signal.error;
      if (signal.servingTarget) incident.servingTargets[signal.servingTarget.route] = signal.servingTarget.target;
      if (signal.severity === 'critical') incident.severity = 'critical';
      const routes = union(incident.affects.routes, signal.affects.routes);
      const providers = union(incident.affects.providers, signal.affects.providers);
      if (routes !== incident.affects.routes || providers !== incident.affects.providers) incident.affects = { routes, providers };
      if (signal.note !== undefined) this.note(incident, now, signal.note);
      return;
    }
    const incident: Incident = {
      key: signal.key,
      type: signal.type,
      severity: signal.severity,
      title: signal.title,
      route: signal.route,
      target: signal.target,
      region: signal.region,
      servingTargets: signal.servingTarget ? { [signal.servingTarget.route]: signal.servingTarget.target } : {},
      error: signal.error,
      startedAt: now,
      lastSeenAt: now,
      notes: [],
      publicSummary: signal.publicSummary,
      affects: { routes: [...new Set(signal.affects.routes)], providers: [...new Set(signal.affects.providers)] },
    };
    if (signal.note !== undefined) this.note(incident, now, signal.note);
    this.active.set(signal.key, { incident, isAnnounced: false, clearingSince: null });
  }

  /** The problem looks gone: the incident resolves unless it comes back within the hold-down. */
  clear(key: string): void {
    const entry = this.active.get(key);
    if (entry && entry.clearingSince === null) entry.clearingSince = this.clock.now();
  }

  /**
   * Takes back an incident not yet announced, silently: a larger one (a region's) replaces it.
   * One already announced stays, to resolve as usual; false then.
   */
  withdraw(key: string): boolean {
    const entry = this.active.get(key);
    if (!entry) return true;
    if (entry.isAnnounced) return false;
    this.active.delete(key);
    return true;
  }

  isActive(key: string): boolean {
    return this.active.has(key);
  }

  /** Announces new incidents and resolves those whose hold-down has passed; called every second or so. */
  tick(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.active) {
      if (entry.clearingSince !== null && now - entry.clearingSince >= this.resolveAfterMs) {
        this.active.delete(key);
        if (!entry.isAnnounced) continue;
        this.resolved.push({ incident: entry.incident, resolvedAt: now });
        if (this.resolved.length > maxResolved) this.resolved.shift();
        this.announce({ state: 'resolved', incident: entry.incident, at: now });
      } else if (!entry.isAnnounced && now - entry.incident.startedAt >= this.announceAfterMs) {
        entry.isAnnounced = true;
        this.announce({ state: 'firing', incident: entry.incident, at: now });
      }
    }
  }

  incidents(): Incident[] {
    return [...this.active.values()].map((entry) => entry.incident);
  }

  /** Incidents resolved within the last `windowMs`, newest first. */
  resolvedWithin(windowMs: number): ResolvedIncident[] {
    const since = this.clock.now() - windowMs;
    return this.resolved.filter((entry) => entry.resolvedAt >= since).reverse();
  }

  private note(incident: Incident, at: number, text: string): void {
    const last = incident.notes[incident.notes.length - 1];
    if (last?.text === text) {
      last.at = at;
      return;
    }
    incident.notes.push({ at, text });
    if (incident.notes.length > maxNotes) incident.notes.shift();
  }

  private announce(message: AlertMessage): void {
    // A snapshot: later updates of the live incident must not change a message already queued.
    const frozen: AlertMessage = { ...message, incident: structuredClone(message.incident) };
    for (const listener of this.listeners) {
      try {
        listener(frozen);
      } catch {
        // A broken listener must not stop the others.
      }
    }
  }
}

/**
 * `a` and what `b` adds; `a` itself when `b` adds nothing. Most signals of an open incident name
 * what it already affects (one per request served while a target is down), and copy nothing.
 */
function union(a: string[], b: readonly string[]): string[] {
  return b.every((name) => a.includes(name)) ? a : [...new Set([...a, ...b])];
}
