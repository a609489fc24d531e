import { formatMs } from './duration.js';
import type { LiveProgress } from './run-scenario.js';
import { formatRate } from './verdict.js';

type Progress = LiveProgress & { index: number; count: number };

const barWidth = 24;
/** Without a terminal (CI logs) a line now and then, not a redraw per tick. */
const plainIntervalMs = 10_000;

/** One line of progress: elapsed time, requests, success rate and the target now serving. */
export function progressLine(progress: Progress): string {
  const share = progress.durationMs > 0 ? Math.min(1, progress.elapsedMs / progress.durationMs) : 1;
  const filled = Math.round(share * barWidth);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}`;
  const rate = progress.finished === 0 ? '—' : formatRate(progress.succeeded / progress.finished);
  return `[${progress.index + 1}/${progress.count} ${progress.scenario}] ${bar} ${formatMs(progress.elapsedMs)} / ${formatMs(progress.durationMs)}  ${progress.sent} req  ${rate} ok  serving ${progress.servingTarget ?? '—'}`;
}

/** Redraws one line on a terminal; prints a line every ten seconds elsewhere. */
export class ProgressDisplay {
  private lastPlainAt = 0;
  private isDrawn = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(progress: Progress): void {
    const line = progressLine(progress);
    if (this.stream.isTTY) {
      const width = this.stream.columns ?? 120;
      this.stream.write(`\r${line.slice(0, Math.max(20, width - 1))}\x1b[K`);
      this.isDrawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlainAt < plainIntervalMs) return;
    this.lastPlainAt = now;
    this.stream.write(`${line}\n`);
  }

  /** Leaves the terminal's line clean for what is printed next. */
  clear(): void {
    if (this.isDrawn) this.stream.write('\r\x1b[K');
    this.isDrawn = false;
    this.lastPlainAt = 0;
  }
}
