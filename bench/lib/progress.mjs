// A one-line progress display on stderr (plain ANSI); one line per step when stderr is not a terminal.
const isTty = process.stderr.isTTY === true;
const width = 24;

export function createProgress(totalSteps) {
  let step = 0;
  let label = '';
  const startedAt = Date.now();

  function prefix() {
    const elapsed = Math.round((Date.now() - startedAt) / 1000);
    return `[${String(step).padStart(2)}/${totalSteps}] ${String(elapsed).padStart(4)}s `;
  }

  return {
    /** A new case starts. */
    begin(text) {
      step++;
      label = text;
      if (isTty) process.stderr.write(`\x1b[2K\r${prefix()}${label}`);
      else process.stderr.write(`${prefix()}${label}\n`);
    },
    /** Progress within the case, `done` of `total` (seconds, samples...). */
    update(done, total) {
      if (!isTty) return;
      const share = Math.max(0, Math.min(1, total > 0 ? done / total : 0));
      const filled = Math.round(share * width);
      const bar = `\x1b[36m${'█'.repeat(filled)}\x1b[2m${'░'.repeat(width - filled)}\x1b[0m`;
      process.stderr.write(`\x1b[2K\r${prefix()}${label} ${bar} ${Math.round(share * 100)}%`);
    },
    /** A message that stays on screen (a skipped row, a note). */
    note(text) {
      process.stderr.write(`${isTty ? '\x1b[2K\r' : ''}${text}\n`);
      if (isTty && label) process.stderr.write(`${prefix()}${label}`);
    },
    done() {
      if (isTty) process.stderr.write('\x1b[2K\r');
      process.stderr.write(`done in ${Math.round((Date.now() - startedAt) / 1000)} s\n`);
    },
  };
}
