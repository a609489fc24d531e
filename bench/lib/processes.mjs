// Spawns the simulator and gateways as their own processes, waits for their "listening on"
// line, kills them all on exit (normal, error or Ctrl-C), and samples /proc for CPU and memory.
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const children = new Set();

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ); asked of the system, not assumed. */
export const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Starts `node <mainJs> <args>` (or `<command> <args>`) with stdout/stderr in files under
 * `directory` (so that a gateway's request log costs the bench process nothing), and resolves
 * once a line matching `readyPattern` appears, or `isReady()` resolves to the process's URL.
 * Rejects with the log's tail when it exits or stays silent too long.
 */
export async function startProcess({ name, mainJs, command, args, directory, readyPattern, isReady, timeoutMs = 15_000 }) {
  const outPath = join(directory, `${name}.out.log`);
  const errPath = join(directory, `${name}.err.log`);
  const out = openSync(outPath, 'w');
  const err = openSync(errPath, 'w');
  const child = command ? spawn(command, args, { stdio: ['ignore', out, err] }) : spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  const handle = { name, child, pid: child.pid, outPath, errPath, exited: false };
  children.add(handle);
  child.once('exit', () => {
    handle.exited = true;
    children.delete(handle);
  });
  const startedAt = Date.now();
  while (Date.now() - startedAt < timeoutMs) {
    const url = isReady ? await isReady() : readyPattern.exec(readFileSync(outPath, 'utf8'))?.[1];
    if (url) {
      handle.url = url;
      return handle;
    }
    if (handle.exited) break;
    await sleep(40);
  }
  const tail = `${readFileSync(outPath, 'utf8')}${readFileSync(errPath, 'utf8')}`.slice(-2000);
  await stopProcess(handle);
  throw new Error(`${name} did not start (${handle.exited ? `exited with ${child.exitCode}` : 'timed out'}):\n${tail}`);
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(handle, graceMs = 3000) {
  if (handle.exited) return;
  const exited = new Promise((resolve) => handle.child.once('exit', resolve));
  handle.child.kill('SIGTERM');
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...children].map((handle) => stopProcess(handle)));
}

/** Last resort from an 'exit' handler: synchronous, so only a signal. */
export function killAllNow() {
  for (const handle of children) {
    try {
      handle.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A loopback port that nothing listens on (bound, then released): connections to it are refused. */
export async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** CPU seconds in user and kernel mode (all threads) the process has used so far. */
export function cpuTimes(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; fields after it are space-separated. utime, stime are fields 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / clockTicksPerSecond, system: Number(fields[12]) / clockTicksPerSecond };
}

function statusKb(pid, key) {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : undefined;
}

/**
 * Measures one process over a window: CPU seconds used, and its peak resident memory.
 * For our own children the kernel's high-water mark (VmHWM) is reset at the start when /proc
 * allows it (writing 5 to clear_refs); VmRSS is also sampled every `intervalMs`, which is all
 * there is for a process we did not start (`isOwn: false`: it is only read, never written).
 */
export function startSampling(pid, { isOwn = true, intervalMs = 200 } = {}) {
  let isHwmReset = false;
  if (isOwn) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      isHwmReset = true;
    } catch {
      // older kernel or not permitted: VmHWM stays the peak since the process started
    }
  }
  const cpuStart = cpuTimes(pid);
  let sampledPeakKb = statusKb(pid, 'VmRSS') ?? 0;
  const timer = setInterval(() => {
    try {
      sampledPeakKb = Math.max(sampledPeakKb, statusKb(pid, 'VmRSS') ?? 0);
    } catch {
      clearInterval(timer);
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const hwmKb = isOwn ? (statusKb(pid, 'VmHWM') ?? 0) : 0;
      const cpuEnd = cpuTimes(pid);
      const user = cpuEnd.user - cpuStart.user;
      const system = cpuEnd.system - cpuStart.system;
      return {
        cpuSeconds: user + system,
        cpuSystemShare: user + system > 0 ? system / (user + system) : undefined,
        peakRssMb: Math.max(hwmKb, sampledPeakKb) / 1024,
        isSinceProcessStart: isOwn && !isHwmReset,
        rssNowMb: (statusKb(pid, 'VmRSS') ?? 0) / 1024,
      };
    },
  };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
