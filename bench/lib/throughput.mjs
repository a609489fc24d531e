// One throughput row: a warm-up, then one load cell per connection count, each with the
// gateway's (and the simulator's) CPU and peak memory measured over exactly that cell.
import { runLoad } from './load.mjs';
import { sleep, startSampling } from './processes.mjs';

/** Calls the simulator has received, by upstream model name. */
export async function simCallsByModel(simUrl) {
  const response = await fetch(`${simUrl}/_sim/stats`);
  const stats = await response.json();
  return stats.by_model ?? {};
}

/**
 * @param row.name           table row name
 * @param row.url            chat-completions URL to load
 * @param row.model          model in the request body
 * @param row.gatewayPid     the gateway process to measure (none for `direct` or another gateway)
 * @param row.backupModel    upstream model of a healthy backup, to count calls that went elsewhere
 */
export async function measureRow(row, { simUrl, simPid, connections, durationS, headers, progress }) {
  progress.begin(`${row.name}: warm-up`);
  const warmupS = Math.min(1, durationS / 2);
  await runLoad({ url: row.url, model: row.model, connections: Math.max(...connections), durationS: warmupS, headers, onTick: (s) => progress.update(s, warmupS) });
  const cells = [];
  for (const count of connections) {
    progress.begin(`${row.name} @ ${count} connection${count === 1 ? '' : 's'}`);
    // Requests the previous cell left in flight finish before this cell's counters start.
    await sleep(300);
    const simCallsBefore = row.backupModel ? await simCallsByModel(simUrl) : undefined;
    const gatewaySampling = row.gatewayPid ? startSampling(row.gatewayPid) : undefined;
    const simSampling = startSampling(simPid);
    const load = await runLoad({ url: row.url, model: row.model, connections: count, durationS, headers, onTick: (s) => progress.update(s, durationS) });
    const gateway = gatewaySampling?.stop();
    const sim = simSampling.stop();
    const cell = {
      ...load,
      gatewayCpuUsPerRequest: gateway && load.responses > 0 ? (gateway.cpuSeconds * 1e6) / load.responses : undefined,
      gatewayCpuSeconds: gateway?.cpuSeconds,
      gatewayPeakRssMb: gateway?.peakRssMb,
      gatewayRssSinceStart: gateway?.isSinceProcessStart,
      simCpuUsPerRequest: load.responses > 0 ? (sim.cpuSeconds * 1e6) / load.responses : undefined,
      simPeakRssMb: sim.peakRssMb,
    };
    if (simCallsBefore && load.upstreamCallsTotal !== undefined) {
      const simCallsAfter = await simCallsByModel(simUrl);
      const backupCalls = (simCallsAfter[row.backupModel] ?? 0) - (simCallsBefore[row.backupModel] ?? 0);
      // Every upstream call Detour reports that the healthy backup did not receive went to the dead primary.
      cell.backupCallsPerRequest = backupCalls / load.responses;
      cell.deadPrimaryCallsPerRequest = (load.upstreamCallsTotal - backupCalls) / load.responses;
    }
    cells.push(cell);
  }
  return { name: row.name, description: row.description, url: row.url, model: row.model, cells };
}
