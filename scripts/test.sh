#!/usr/bin/env bash
# The full test suite: setup, lint, then every test (unit, vectors, property, process, interop).
# Needs root: the interop and process tests build network namespaces and drive real iptables.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx biome ci --colors=off src test bench scripts
exec node --test --test-concurrency=1 dist/test/
