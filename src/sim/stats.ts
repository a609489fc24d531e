/** One call the simulator received. */
export interface SimCall {
  model: string;
  /** Last four characters only: enough to tell keys apart in a test. */
  keySuffix: string;
  status: number | undefined;
  startedAt: number;
  endedAt?: number;
  outcome?: 'completed' | 'client_closed';
}

/** What the simulator has seen: calls by model, key and status, and how each ended. */
export class SimStats {
  private calls: SimCall[] = [];
  private total = 0;
  private probes = 0;
  private inFlight = 0;
  private clientClosed = 0;
  private readonly byModel = new Map<string, number>();
  private readonly byKey = new Map<string, number>();
  private readonly byStatus = new Map<number, number>();

  begin(model: string, apiKey: string): SimCall {
    const call: SimCall = { model, keySuffix: apiKey.slice(-4), status: undefined, startedAt: Date.now() };
    this.total++;
    this.inFlight++;
    this.byModel.set(model, (this.byModel.get(model) ?? 0) + 1);
    this.byKey.set(call.keySuffix, (this.byKey.get(call.keySuffix) ?? 0) + 1);
    this.calls.push(call);
    if (this.calls.length > 2000) this.calls = this.calls.slice(-1000);
    return call;
  }

  setStatus(call: SimCall, status: number): void {
    call.status = status;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  end(call: SimCall, outcome: 'completed' | 'client_closed'): void {
    if (call.endedAt !== undefined) return;
    call.endedAt = Date.now();
    call.outcome = outcome;
    this.inFlight--;
    if (outcome === 'client_closed') this.clientClosed++;
  }

  recordProbe(): void {
    this.probes++;
  }

  get requests(): number {
    return this.total;
  }

  get clientClosedCount(): number {
    return this.clientClosed;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  countFor(model: string): number {
    return this.byModel.get(model) ?? 0;
  }

  countForKey(apiKey: string): number {
    return this.byKey.get(apiKey.slice(-4)) ?? 0;
  }

  recent(): readonly SimCall[] {
    return this.calls;
  }

  reset(): void {
    this.calls = [];
    this.total = 0;
    this.probes = 0;
    this.clientClosed = 0;
    this.byModel.clear();
    this.byKey.clear();
    this.byStatus.clear();
  }

  snapshot(): Record<string, unknown> {
    return {
      requests: this.total,
      probes: this.probes,
      in_flight: this.inFlight,
      client_closed: this.clientClosed,
      by_model: Object.fromEntries(this.byModel),
      by_key_suffix: Object.fromEntries(this.byKey),
      by_status: Object.fromEntries(this.byStatus),
    };
  }
}
