// The throughput rows, measured interleaved: for each connection count and each repeat, every
// row runs one cell in turn, so that the machine's drifting load (2 shared cores) falls on all
// rows alike. Each cell measures the gateway's (and the simulator's) CPU and peak memory over
// exactly that cell; a row reports, per connection count, the cell with the median req/s.
import { runLoad } from './load.mjs';
import { sleep, startSampling } from './processes.mjs';

/** Calls the simulator has received, by upstream model name. */
export async function simCallsByModel(simUrl) {
  const response = await fetch(`${simUrl}/_sim/stats`);
  const stats = await response.json();
  return stats.by_model ?? {};
}

async function measureCell(row, count, { simUrl, simPid, durationS, progress }) {
  // Requests the previous cell left in flight finish before this cell's counters start.
  await sleep(300);
  const simCallsBefore = row.backupModel ? await simCallsByModel(simUrl) : undefined;
  const gatewaySampling = row.gatewayPid ? startSampling(row.gatewayPid, { isOwn: row.isOwnGateway !== false }) : undefined;
  const simSampling = startSampling(simPid);
  const load = await runLoad({ url: row.url, model: row.model, connections: count, durationS, headers: row.headers, isStream: row.isStream, api: row.api, onTick: (s) => progress.update(s, durationS) });
  const gateway = gatewaySampling?.stop();
  const sim = simSampling.stop();
  const cell = {
    ...load,
    gatewayCpuUsPerRequest: gateway && load.responses > 0 ? (gateway.cpuSeconds * 1e6) / load.responses : undefined,
    gatewayCpuSeconds: gateway?.cpuSeconds,
    gatewayCpuSystemShare: gateway?.cpuSystemShare,
    gatewayPeakRssMb: gateway?.peakRssMb,
    gatewayRssSinceStart: gateway?.isSinceProcessStart,
    simCpuUsPerRequest: load.responses > 0 ? (sim.cpuSeconds * 1e6) / load.responses : undefined,
    simCpuSystemShare: sim.cpuSystemShare,
    simPeakRssMb: sim.peakRssMb,
  };
  if (simCallsBefore && load.upstreamCallsTotal !== undefined && load.responses > 0) {
    const simCallsAfter = await simCallsByModel(simUrl);
    const backupCalls = (simCallsAfter[row.backupModel] ?? 0) - (simCallsBefore[row.backupModel] ?? 0);
    // Every upstream call Detour reports that the healthy backup did not receive went to the dead primary.
    cell.backupCallsPerRequest = backupCalls / load.responses;
    cell.deadPrimaryCallsPerRequest = (load.upstreamCallsTotal - backupCalls) / load.responses;
  }
  return cell;
}

/**
 * The repeat with the median req/s (the upper one of an even count), but the peak memory of all
 * repeats; every repeat's main figures stay in `repeats`.
 */
function medianCell(cells) {
  const sorted = [...cells].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const chosen = sorted[Math.floor(sorted.length / 2)];
  const peaks = cells.map((cell) => cell.gatewayPeakRssMb).filter((value) => value !== undefined);
  return { ...chosen, gatewayPeakRssMb: peaks.length > 0 ? Math.max(...peaks) : undefined, repeats: cells.map((cell) => ({ requestsPerSecond: cell.requestsPerSecond, latencyP50Ms: cell.latencyP50Ms, gatewayPeakRssMb: cell.gatewayPeakRssMb })) };
}

/**
 * @param rows  `[{ name, description, url, model, headers?, isStream?, api?, gatewayPid?, isOwnGateway?, backupModel? }]`;
 *              `gatewayPid` is the process to sample (none for `direct`), `backupModel` the upstream
 *              model of a healthy backup, to count the calls that went to a dead primary instead.
 */
export async function measureRows(rows, context) {
  const { connections, repeats, durationS, progress } = context;
  const warmupS = Math.min(1, durationS / 2);
  for (const row of rows) {
    progress.begin(`${row.name}: warm-up`);
    await runLoad({ url: row.url, model: row.model, connections: Math.max(...connections), durationS: warmupS, headers: row.headers, isStream: row.isStream, api: row.api, onTick: (s) => progress.update(s, warmupS) });
  }
  const cells = rows.map(() => new Map(connections.map((count) => [count, []])));
  for (const count of connections) {
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const [index, row] of rows.entries()) {
        progress.begin(`${row.name} @ ${count} connection${count === 1 ? '' : 's'}${repeats > 1 ? ` (${repeat}/${repeats})` : ''}`);
        cells[index].get(count).push(await measureCell(row, count, context));
      }
    }
  }
  return rows.map((row, index) => ({
    name: row.name,
    description: row.description,
    isStream: row.isStream === true,
    ...(row.api ? { api: row.api } : {}),
    url: row.url,
    model: row.model,
    cells: connections.map((count) => medianCell(cells[index].get(count))),
  }));
}
