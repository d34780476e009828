#!/usr/bin/env bash
# The live demo: installs what it needs, builds, then runs scripts/demo.ts (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
if ! bash scripts/setup.sh >"$log" 2>&1; then
  cat "$log"
  echo "demo: setup failed (log above)" >&2
  exit 1
fi
exec node dist/scripts/demo.js
