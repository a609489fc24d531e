import type { DetourConfig } from '../config/schema.js';
import type { WireFormat } from '../core/events.js';
import { Simulator } from '../sim/simulator.js';
import { simFormatOf } from './drill-config.js';
import type { SimPlan } from './fault-plan.js';

interface FleetMember {
  sim: Simulator;
  format: WireFormat;
  /** The provider's declared region: its simulator stands for a host there. */
  region: string | undefined;
}

/** One simulator per configured provider, on ephemeral loopback ports. */
export class SimFleet {
  private timers: NodeJS.Timeout[] = [];

  private constructor(private readonly members: ReadonlyMap<string, FleetMember>) {}

  /** Starts a simulator for every provider of `config`; `seed` makes fault draws reproducible. */
  static async start(config: DetourConfig, seed: number): Promise<SimFleet> {
    const members = new Map<string, FleetMember>();
    const fleet = new SimFleet(members);
    try {
      for (const [index, [name, provider]] of Object.entries(config.providers).entries()) {
        const format = simFormatOf(provider.type);
        const sim = new Simulator({ seed: seed + index, models: modelsOf(config, name), answer: { text: `Simulated answer from ${name} during a Detour drill. No real provider was called.` } });
        members.set(name, { sim, format, region: provider.region });
        await sim.listen(0, '127.0.0.1');
      }
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  /** Root URL of each provider's simulator. */
  urls(): Map<string, string> {
    return new Map([...this.members].map(([name, member]) => [name, member.sim.url]));
  }

  formats(): Record<string, WireFormat> {
    return Object.fromEntries([...this.members].map(([name, member]) => [name, member.format]));
  }

  providers(): string[] {
    return [...this.members.keys()];
  }

  /**
   * Gives every simulator its plan at the same moment: their timelines' clocks start now. Down
   * windows are kept here rather than in the simulators' timelines, which can only crash a host.
   */
  apply(plans: ReadonlyMap<string, SimPlan>, chunkDelayMs: number): void {
    this.clearTimers();
    for (const [name, member] of this.members) {
      const plan = plans.get(name);
      member.sim.chunkDelayMs = chunkDelayMs;
      member.sim.setPlan({ faults: plan?.faults ?? [], timeline: plan?.timeline ?? [] });
      for (const window of plan?.down ?? []) {
        this.timers.push(
          setTimeout(() => void member.sim.down(undefined, { keepInFlight: window.keepInFlight }), window.startMs),
          setTimeout(() => void member.sim.up().catch(() => undefined), window.endMs),
        );
      }
    }
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** Chat calls that reached each simulator (health probes and refused connections not counted). */
  callsByProvider(): Record<string, number> {
    return Object.fromEntries([...this.members].map(([name, member]) => [name, member.sim.stats.requests]));
  }

  /** Chat calls that reached the simulators of each declared region (`none` for providers without one). */
  callsByRegion(): Record<string, number> {
    const calls: Record<string, number> = {};
    for (const member of this.members.values()) {
      const region = member.region ?? 'none';
      calls[region] = (calls[region] ?? 0) + member.sim.stats.requests;
    }
    return calls;
  }

  upstreamCalls(): number {
    let total = 0;
    for (const member of this.members.values()) total += member.sim.stats.requests;
    return total;
  }

  async close(): Promise<void> {
    this.clearTimers();
    await Promise.all([...this.members.values()].map((member) => closeSim(member.sim)));
  }
}

/**
 * Closes a simulator even if its timeline was bringing it back up at that moment: a `listen`
 * in flight finishes after `close` returned, so look again, a few times, briefly.
 */
async function closeSim(sim: Simulator): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await sim.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (!sim.isUp) return;
  }
}

/** The models a provider is asked for anywhere in the config, for its simulator's model list (health checks read it). */
function modelsOf(config: DetourConfig, provider: string): string[] {
  const models = new Set<string>();
  for (const route of Object.values(config.models)) {
    for (const target of route.targets) if (target.provider === provider) models.add(target.model.replace(/^models\//, ''));
    if (route.mirror?.provider === provider) models.add(route.mirror.model);
  }
  return models.size > 0 ? [...models] : ['sim-small'];
}
