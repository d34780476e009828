/**
 * The bin/ launchers speak to end users (issue 9, item 11): an installation without its
 * compiled program says so and says to reinstall, never "did you run npm run build?"; and the
 * package builds dist/ itself before `npm pack`, so a packed tarball always has it.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { run } from "../../src/sys/run.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

for (const name of ["fwknopd", "fwknop"]) {
  test(`${name} launcher without dist/ tells the user to reinstall`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "fwk-launcher-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "bin"));
    copyFileSync(join(ROOT, "bin", name), join(dir, "bin", name));
    // An ES module, like the package it comes from.
    copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
    const r = await run([process.execPath, join(dir, "bin", name), "-h"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `${name}: this installation is incomplete: its program (dist/bundle/${name}.cjs) is missing; reinstall fwknop-ts\n`,
    );
    assert.doesNotMatch(r.stderr, /npm run build/);
  });
}

test("npm pack builds dist/ first (prepack) and ships the compiled programs", async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
    files: string[];
  };
  assert.equal(pkg.scripts.prepack, "npm run build");
  assert.match(pkg.scripts.build ?? "", /^tsc -p \. && /);
  // What the tarball would hold (scripts skipped here: dist/ is already built for the tests).
  const r = await run(["npm", "pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  const [packed] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  const paths = new Set(packed?.files.map((f) => f.path));
  for (const p of [
    "bin/fwknopd",
    "bin/fwknop",
    "dist/src/bin/fwknopd.js",
    "dist/src/bin/fwknop.js",
  ])
    assert.ok(paths.has(p), `${p} is packed`);
});
