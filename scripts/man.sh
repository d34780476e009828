#!/usr/bin/env bash
# Renders the man pages (man/<page>.<section>.md, the one source of their text) to roff in OUTDIR
# (default build/man) with marked-man. The date is SOURCE_DATE_EPOCH's (default: the last
# commit's), so the same sources give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/man}
version=$(node -p 'require("./package.json").version')
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
mkdir -p "$out"
for src in man/*.md; do
  page=$(basename "$src" .md)
  node_modules/.bin/marked-man --no-breaks --version "$version" --manual "fwknop-ts" "$src" > "$out/$page"
done
