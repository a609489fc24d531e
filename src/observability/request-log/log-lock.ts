import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** The request log's file is taken by a running instance; two instances must never share one silently. */
export class RequestLogInUseError extends Error {
  constructor(
    readonly path: string,
    readonly holder: string,
  ) {
    super(`the request log ${path} is already open in a running Detour instance (${holder}); give each instance its own log.path`);
    this.name = 'RequestLogInUseError';
  }
}

export interface LogLock {
  release(): void;
}

/** Paths this process holds: a second gateway in the same process is refused like another process. */
const heldHere = new Set<string>();

/**
 * Takes `<path>.lock` for this process. A lock left by a process that is gone (a crash, a
 * kill -9) is taken over; one held by a live process on this host is refused. SQLite's own
 * locking cannot tell: WAL mode lets any number of writers share the file.
 */
export function acquireLogLock(path: string): LogLock {
  const lockPath = `${path}.lock`;
  if (heldHere.has(path)) throw new RequestLogInUseError(path, `pid ${process.pid}, this process`);
  const owner = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, owner);
      closeSync(fd);
      heldHere.add(path);
      return {
        release() {
          if (!heldHere.delete(path)) return;
          try {
            if (readFileSync(lockPath, 'utf8') === owner) unlinkSync(lockPath);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(lockPath);
      if (holder && isAlive(holder)) throw new RequestLogInUseError(path, `pid ${holder.pid} on ${holder.host}`);
      try {
        unlinkSync(lockPath);
      } catch {
        // Another starter removed the stale lock first; the next attempt decides.
      }
    }
  }
  throw new RequestLogInUseError(path, 'another instance starting at the same moment');
}

function readHolder(lockPath: string): { pid: number; host: string } | undefined {
  try {
    const [pid, host] = readFileSync(lockPath, 'utf8').split('@');
    const number = Number(pid);
    return Number.isInteger(number) && number > 0 ? { pid: number, host: host ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** A holder on another host (a shared disk) cannot be checked, so it counts as alive. */
function isAlive(holder: { pid: number; host: string }): boolean {
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
