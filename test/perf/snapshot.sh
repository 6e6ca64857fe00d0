#!/bin/sh
# Builds a private dist/ of the sidecar for A/B runs (test/perf/ab.mjs), without touching the shared dist/.
# Usage: test/perf/snapshot.sh OUT_DIR [REV] [FILE...]  — the tree of REV (default HEAD), with FILE... taken from the working copy.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
rev=${2:-HEAD}
[ $# -ge 2 ] && shift 2 || shift 1
rm -rf "$out"
mkdir -p "$out"
git -C "$repo" archive "$rev" src package.json tsconfig.json tsconfig.build.json | tar -x -C "$out"
for f in "$@"; do
  mkdir -p "$out/$(dirname "$f")"
  cp "$repo/$f" "$out/$f"
done
ln -s "$repo/node_modules" "$out/node_modules"
cd "$out" && "$repo/node_modules/.bin/tsc" -p tsconfig.build.json
echo "built $out/dist from $rev${*:+ + $*}"
