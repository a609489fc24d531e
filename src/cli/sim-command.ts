import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Simulator } from '../sim/simulator.js';
import { onShutdown } from './load.js';

export async function runSim(options: { port: number; host: string; faults?: string; chunkDelay: number; echo?: boolean }): Promise<void> {
  const plan = options.faults ? (parse(readFileSync(options.faults, 'utf8')) as { faults?: []; timeline?: [] }) : undefined;
  const sim = new Simulator({ plan, chunkDelayMs: options.chunkDelay, answer: options.echo ? { mode: 'echo' } : {} });
  const url = await sim.listen(options.port, options.host);
  process.stdout.write(`simulator listening on ${url}\n  OpenAI base URL: ${url}/v1\n  control: GET ${url}/_sim/stats, POST ${url}/_sim/faults\n`);
  onShutdown(() => sim.close());
}
