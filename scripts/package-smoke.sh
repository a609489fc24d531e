#!/usr/bin/env bash
# Installs the packed package into a new project, as a user would, and uses it from there:
# the CLI through npx, a gateway in front of a simulator, and both library entry points.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "-- npm pack"
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/detour-*.tgz)"

echo "-- npm install $(basename "$tarball") into a new project"
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --prefer-offline "$tarball" ai@6 >/dev/null

# The package's own files: dependencies npm nests under it are not part of it.
installed_kb=$(du -sk --apparent-size --exclude=node_modules node_modules/detour | cut -f1)
echo "installed package: ${installed_kb} KB"
if [ "$installed_kb" -ge 5120 ]; then echo "the installed package is ${installed_kb} KB, over 5 MB" >&2; exit 1; fi

echo "-- npx detour --help / --version"
npx --no-install detour --help | grep -q 'drill'
npx --no-install detour --version | grep -qx "$(node -p "require('$root/package.json').version")"
npx --no-install detour check --help >/dev/null

echo "-- detour sim + detour start, one request; the library from the installed package"
# Run from inside the project, so that `detour` resolves to the installed copy, not this checkout.
cp "$root/scripts/package-smoke-check.mjs" ./check.mjs
node ./check.mjs
echo "package smoke: ok"
