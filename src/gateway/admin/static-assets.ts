import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/**
 * The dashboard's and status page's static files: plain HTML, CSS and ES modules, no build
 * step. They sit next to this module in `src/`; compiled code in `dist/` finds them in the
 * package's `src/` folder (the build copies no assets).
 */
const candidates = [new URL('./assets/', import.meta.url), new URL('../../../src/gateway/admin/assets/', import.meta.url)];

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

export interface Asset {
  body: Buffer;
  contentType: string;
}

let folder: string | undefined;

function assetFolder(): string {
  folder ??= candidates.map((url) => fileURLToPath(url)).find((path) => existsSync(join(path, 'dashboard.html')));
  if (folder === undefined) throw new Error('the dashboard assets are missing (expected src/gateway/admin/assets/)');
  return folder;
}

const cache = new Map<string, Asset>();

/** One asset by file name, read once. */
export function asset(name: string): Asset {
  let found = cache.get(name);
  if (!found) {
    const extension = name.slice(name.lastIndexOf('.') + 1);
    found = { body: readFileSync(join(assetFolder(), name)), contentType: types[extension] ?? 'application/octet-stream' };
    cache.set(name, found);
  }
  return found;
}
