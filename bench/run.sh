#!/usr/bin/env bash
# Side-by-side benchmarks of our fwknopd and the C fwknopd 2.6.10 (root; ~10-15 minutes).
# Builds, then writes docs/benchmarks.md and docs/benchmarks.svg. Options: see bench/run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >/dev/null || true # others' work in progress may not type-check; emit still happens
exec timeout --signal=INT --kill-after=30 25m node dist/bench/run.js "$@"
