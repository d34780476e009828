#!/usr/bin/env bash
# Side-by-side benchmarks of our fwknopd and the C fwknopd 2.6.10 (root; about 20 minutes on an
# otherwise idle 2-core machine; `--quick` is a few-minute smoke run of every scenario in small).
# Builds, then writes docs/benchmarks.md and docs/benchmarks.svg. Options: see bench/run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >/dev/null || true # others' work in progress may not type-check; emit still happens
exec timeout --signal=INT --kill-after=30 45m node dist/bench/run.js "$@"
