/**
 * Spawns our fwknopd: process control (-S, -K, -R), SIGTERM flushing per FLUSH_IPT_AT_EXIT,
 * and bad configuration failing with file:line before any firewall change.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  type ConfigDir,
  knock,
  OUR_FWKNOPD,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  startHiddenService,
} from "../helpers/netns.js";

const PORT = 2222;

function requireRoot(): void {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
}

async function ourCtl(cfg: ConfigDir, ...args: string[]) {
  return run([OUR_FWKNOPD, "-c", cfg.confFile, "-p", cfg.pidFile, ...args]);
}

async function iptablesSave(ns: string): Promise<string> {
  return (await run(["iptables-save"], { netns: ns })).stdout.replace(/^#.*\n/gm, "");
}

describe("process control", () => {
  test("-S reports the daemon, SIGUSR1 its counts, -R reloads and keeps active grants, -K stops it", async (t) => {
    requireRoot();
    const pair = await createNetnsPair("ctl");
    t.after(() => pair.cleanup());
    const svc = await startHiddenService(pair.server, PORT);
    t.after(() => svc.kill());
    await hideServices(pair.server);
    const keys = randomKeys();
    const cfg = writeConfigDir({}, accessStanza(keys, { FW_ACCESS_TIMEOUT: "60" }));
    const daemon = await startDaemon(cfg, { netns: pair.server });
    t.after(() => daemon.stop("SIGKILL"));

    const status = await ourCtl(cfg, "-S");
    assert.equal(status.code, 0);
    assert.match(
      status.stdout,
      new RegExp(`Detected fwknopd is running \\(pid=${daemon.proc.pid}\\)`),
    );

    await knock(pair, keys, { port: PORT });
    await daemon.waitForLog(/Added access rule/);
    assert.equal(await canConnect(pair.client, pair.serverIp, PORT), true);

    // SIGUSR1 reports the packet counts by outcome.
    daemon.proc.kill("SIGUSR1");
    await daemon.waitForLog(/Packets by outcome: GRANTED=1; active grants: 1/);

    // A new stanza appears on reload; the open grant must survive it.
    const other = randomKeys();
    writeFileSync(
      cfg.accessFile,
      accessStanza(keys, { FW_ACCESS_TIMEOUT: "60" }) + accessStanza(other),
      { mode: 0o600 },
    );
    const restart = await ourCtl(cfg, "-R");
    assert.equal(restart.code, 0);
    assert.match(restart.stdout, /Sent restart signal to fwknopd/);
    await daemon.waitForLog(/Configs re-read: 2 access stanza/);
    assert.equal(await canConnect(pair.client, pair.serverIp, PORT), true, "grant must survive -R");
    assert.match(await iptablesSave(pair.server), /_exp_/);

    const kill = await ourCtl(cfg, "-K");
    assert.equal(kill.code, 0, kill.stderr);
    assert.match(kill.stdout, /Killed fwknopd/);
    assert.equal(await daemon.exited, 0);
    const after = await ourCtl(cfg, "-S");
    assert.equal(after.code, 1);
    assert.match(after.stdout, /No running fwknopd detected/);
  });
});

describe("SIGTERM and FLUSH_IPT_AT_EXIT", () => {
  for (const flush of ["Y", "N"]) {
    test(`FLUSH_IPT_AT_EXIT ${flush}`, async (t) => {
      requireRoot();
      const pair = await createNetnsPair("term");
      t.after(() => pair.cleanup());
      const keys = randomKeys();
      const daemon = await startDaemon(
        writeConfigDir(
          { FLUSH_IPT_AT_EXIT: flush },
          accessStanza(keys, { FW_ACCESS_TIMEOUT: "60" }),
        ),
        {
          netns: pair.server,
        },
      );
      await knock(pair, keys, { port: PORT });
      await daemon.waitForLog(/Added access rule/);
      assert.equal(await daemon.stop("SIGTERM"), 0);
      const rules = await iptablesSave(pair.server);
      if (flush === "Y") assert.doesNotMatch(rules, /FWKNOP_INPUT/);
      else assert.match(rules, /-A FWKNOP_INPUT .*_exp_/);
    });
  }
});

describe("bad configuration", () => {
  const cases: [string, Record<string, string>, string, RegExp][] = [
    [
      "out-of-range fwknopd.conf value",
      { MAX_SPA_PACKET_AGE: "abc" },
      accessStanza(randomKeys()),
      /fwknopd\.conf:\d+: .*MAX_SPA_PACKET_AGE/,
    ],
    [
      "invalid SOURCE in access.conf",
      {},
      "SOURCE    999.1.1.1\nKEY    secret-key-1\n",
      /access\.conf:1: .*SOURCE/,
    ],
    [
      "KEY left at __CHANGEME__",
      {},
      "SOURCE    ANY\nKEY_BASE64    __CHANGEME__\n",
      /access\.conf:2: /,
    ],
  ];
  for (const [name, conf, access, expected] of cases) {
    test(`${name}: one file:line error, exit 1, firewall untouched`, async (t) => {
      requireRoot();
      const pair = await createNetnsPair("bad");
      t.after(() => pair.cleanup());
      const before = await iptablesSave(pair.server);
      const cfg = writeConfigDir(conf, access);
      const r = await run(
        [
          "ip",
          "netns",
          "exec",
          pair.server,
          OUR_FWKNOPD,
          "-f",
          "-c",
          cfg.confFile,
          "-a",
          cfg.accessFile,
        ],
        {
          timeoutMs: 15_000,
        },
      );
      assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, expected);
      assert.equal(await iptablesSave(pair.server), before, "the firewall must not change");
      assert.equal(readFileSync(cfg.confFile, "utf8").length > 0, true);
    });
  }
});
