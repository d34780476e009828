/**
 * Our fwknopd with cluster settings in fwknopd.conf, as a process: a bad value is one
 * `file:line` line and exit 1 before anything starts; good values parse (no Redis needed to
 * check them, and no firewall touched with --exit-parse-config).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { run } from "../../src/sys/run.js";
import { accessStanza, OUR_FWKNOPD, randomKeys, writeConfigDir } from "../helpers/daemon.js";

async function parse(conf: Record<string, string>) {
  const cfg = writeConfigDir(conf, accessStanza(randomKeys()));
  const r = await run(
    [OUR_FWKNOPD, "-c", cfg.confFile, "-a", cfg.accessFile, "--exit-parse-config", "-f"],
    { timeoutMs: 30_000 },
  );
  return { ...r, confFile: cfg.confFile };
}

test("bad cluster values: one file:line error, exit 1, no stack trace", async () => {
  for (const [conf, re] of [
    [{ REPLAY_CACHE_URL: "ftp://store" }, /REPLAY_CACHE_URL 'ftp:\/\/store': scheme 'ftp'/],
    [
      { REPLAY_CACHE_URL: "redis://h", CLUSTER_GRANTS: "Y" },
      /CLUSTER_GRANTS needs CLUSTER_KEY_BASE64/,
    ],
    [{ REPLAY_CACHE_URL: "redis://h", CLUSTER_FAIL_MODE: "open" }, /CLUSTER_FAIL_MODE 'open'/],
  ] as const) {
    const r = await parse(conf);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    const error = lines.find((l) => re.test(l));
    assert.ok(error, r.stderr);
    assert.ok(error.startsWith(`${r.confFile}:`), error);
    assert.match(error, /\[FWK_ERR_CONFIG_VALUE\]$/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
});

test("good cluster values parse without reaching any store", async () => {
  const r = await parse({
    REPLAY_CACHE_URL: "redis://fwknopd:pw@192.0.2.250:6379/0",
    CLUSTER_GRANTS: "Y",
    CLUSTER_KEY_BASE64: randomBytes(32).toString("base64"),
    CLUSTER_FAIL_MODE: "local",
  });
  assert.equal(r.code, 0, r.stderr);
});
