import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` when the config file changes (`server.watch_config: true`). The folder is
 * watched, not the file: editors and Kubernetes ConfigMaps replace a file by renaming another
 * over it, which ends a watch on the file itself. Bursts of events (one save is often several)
 * are folded into one call.
 */
export function watchConfigFile(path: string, onChange: () => void, debounceMs = 200): () => void {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, changed) => {
      if (changed !== null && changed !== name && !String(changed).startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    watcher.unref();
  } catch {
    return () => undefined;
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
