import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The built CLI, as `npx detour` runs it. */
export const detourCli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

/** A running `detour start` process: its URL, the process, its exit code to come, and all it printed so far. */
export interface DetourProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

export interface DetourProcessOptions {
  env?: NodeJS.ProcessEnv;
  /** Every spawned process goes here, so that the file's afterEach can kill what a failed test left running. */
  children: ChildProcess[];
  /** What else must have been printed before the process counts as started (besides "listening on"). */
  isReady?: (output: string) => boolean;
}

/** Starts `detour start --config <path>` and resolves once it listens; rejects with its output if it exits first. */
export async function startDetourProcess(configPath: string, options: DetourProcessOptions): Promise<DetourProcess> {
  const child = spawn(process.execPath, [detourCli, 'start', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  options.children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] && (options.isReady?.(output) ?? true)) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  return { url, child, exited, output: () => output };
}

/** Kills (SIGKILL) every process a test left running. */
export function killLeftovers(children: ChildProcess[]): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}
