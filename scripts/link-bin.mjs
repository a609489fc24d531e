// Makes `npx detour` run this checkout's CLI: npm links the bins of dependencies into
// node_modules/.bin, but never the project's own, and npx would otherwise look for a package
// of that name in the registry.
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'dist', 'cli', 'main.js');
const binDir = join(root, 'node_modules', '.bin');
const link = join(binDir, 'detour');

if (existsSync(target)) chmodSync(target, 0o755);
if (existsSync(join(root, 'node_modules'))) {
  mkdirSync(binDir, { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(relative(binDir, target), link);
}
