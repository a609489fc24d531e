import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadReplay } from '../sim/replay.js';
import { Simulator } from '../sim/simulator.js';
import { onShutdown } from './load.js';

export async function runSim(options: { port: number; host: string; faults?: string; chunkDelay: number; echo?: boolean; replayJson?: string; replayChunks?: string }): Promise<void> {
  const plan = options.faults ? (parse(readFileSync(options.faults, 'utf8')) as { faults?: []; timeline?: [] }) : undefined;
  const replay = options.replayJson || options.replayChunks ? { '*': loadReplay({ json: options.replayJson, chunks: options.replayChunks }) } : undefined;
  const sim = new Simulator({ plan, chunkDelayMs: options.chunkDelay, answer: options.echo ? { mode: 'echo' } : {}, replay });
  const url = await sim.listen(options.port, options.host);
  process.stdout.write(`simulator listening on ${url}\n  OpenAI base URL: ${url}/v1\n  control: GET ${url}/_sim/stats, POST ${url}/_sim/faults\n`);
  onShutdown(() => sim.close());
}
