/**
 * `node --test dist/test/` runs every .js file under dist/test, not only *.test.js. A CLI
 * placed there (a worker, a packet sender) would run as a "test" without its arguments —
 * outside any namespace. This keeps such scripts out: under test/, only tests and importable
 * modules without command-line behaviour.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../test", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

test("no command-line scripts under test/ (they belong in scripts/ or bench/)", () => {
  const offenders = sources(root).filter(
    (f) => !f.endsWith(".test.ts") && /process\.argv|process\.exit\(/.test(readFileSync(f, "utf8")),
  );
  assert.deepEqual(offenders, [], "move these CLIs out of test/: node --test would run them");
});
