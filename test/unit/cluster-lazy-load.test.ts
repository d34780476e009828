/**
 * A standalone gateway loads nothing of the cluster beyond its settings: the Redis client is
 * imported in one place, dynamically, and the cluster module only by main.ts, dynamically.
 * Checked on the emitted JavaScript, where type-only imports are gone.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const srcDir = fileURLToPath(new URL("../../src", import.meta.url));

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? jsFiles(join(dir, e.name))
      : e.name.endsWith(".js")
        ? [join(dir, e.name)]
        : [],
  );
}

const files = jsFiles(srcDir).map((f) => ({
  f: f.slice(srcDir.length + 1),
  text: readFileSync(f, "utf8"),
}));

test("ioredis is imported only dynamically, only by the cluster link", () => {
  const staticImports = files.filter(({ text }) => /^import[^;]*from\s+"ioredis"/m.test(text));
  assert.deepEqual(
    staticImports.map((x) => x.f),
    [],
  );
  const dynamic = files.filter(({ text }) => /import\("ioredis"\)/.test(text)).map((x) => x.f);
  assert.deepEqual(dynamic, ["cluster/redis-link.js"]);
});

test("outside src/cluster, only main.js loads the cluster module, and only dynamically", () => {
  const outside = files.filter(({ f }) => !f.startsWith("cluster/"));
  const staticUse = outside.filter(({ text }) =>
    /^import[^;]*from\s+"[./]*cluster\/(cluster|fanout|redis-link|shared-replay)\.js"/m.test(text),
  );
  assert.deepEqual(
    staticUse.map((x) => x.f),
    [],
  );
  const dynamic = outside.filter(({ text }) => /import\("[./]*cluster\/cluster\.js"\)/.test(text));
  assert.deepEqual(
    dynamic.map((x) => x.f),
    ["server/main.js"],
  );
});

const bundleDir = fileURLToPath(new URL("../../bundle", import.meta.url));

test("the fwknopd bundle loads the cluster and ioredis from a file of their own", {
  skip: existsSync(join(bundleDir, "fwknopd.cjs")) ? false : "no bundle (npm run build makes it)",
}, () => {
  const daemon = readFileSync(join(bundleDir, "fwknopd.cjs"), "utf8");
  const cluster = readFileSync(join(bundleDir, "fwknopd-cluster.cjs"), "utf8");
  assert.match(daemon, /\.\/fwknopd-cluster\.cjs/);
  // Text only ioredis itself contains (its reply parser), in the cluster file and nowhere else.
  assert.match(cluster, /redis-parser|RedisParser|JavascriptRedisParser/);
  assert.doesNotMatch(daemon, /redis-parser|RedisParser|JavascriptRedisParser/);
});
