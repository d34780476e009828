/**
 * The hardened unit keeps every feature working. systemd is not PID 1 here, so the daemon runs
 * under the closest equivalent built from contrib/fwknopd.service itself
 * (test/helpers/unit-sandbox.ts: setpriv with the unit's capability bounding set and
 * no_new_privs; a read-only root, private /tmp and fresh /run in a private mount namespace).
 * Inside it: a knock in UDP-server mode and in sniffing mode (tcpdump) opens the hidden port, an
 * SPA command runs as CMD_EXEC_USER, and `fwknopd -R` (the unit's ExecReload) reloads.
 */
import assert from "node:assert/strict";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  knock,
  OUR_FWKNOP,
  OUR_FWKNOPD,
  randomKeys,
  startDaemon,
} from "../helpers/daemon.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  startHiddenService,
  vethDevice,
} from "../helpers/netns.js";
import { capsOfMask, procStatus, unitSandbox } from "../helpers/unit-sandbox.js";

const HIDDEN_PORT = 2022;
const NOBODY = 65534;

for (const mode of ["udp", "sniffing"] as const) {
  test(`under the unit's sandbox (${mode} mode): knock, CMD_EXEC as a user, -R`, async (t) => {
    if (!canUseNetns()) {
      t.skip("needs root (namespaces, mounts)");
      return;
    }
    const sandbox = unitSandbox();
    assert.ok(sandbox.caps.includes("net_admin") && sandbox.noNewPrivileges);
    const work = mkdtempSync(join(tmpdir(), "fwk-sbx-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const root = join(work, "root");
    const conf = join(work, "conf");
    const cmdDir = join(work, "cmd");
    mkdirSync(root);
    mkdirSync(conf, { mode: 0o700 });
    // Writable by CMD_EXEC_USER only: without CAP_DAC_OVERRIDE, root could not create a file
    // here, so the file below proves the command ran as that user.
    mkdirSync(cmdDir, { mode: 0o700 });
    chownSync(cmdDir, NOBODY, NOBODY);

    const pair = await createNetnsPair("sbx");
    t.after(() => pair.cleanup());
    await hideServices(pair.server);
    const service = await startHiddenService(pair.server, HIDDEN_PORT);
    t.after(() => service.kill());

    const keys = randomKeys();
    const dev = await vethDevice(pair.server);
    const settings: Record<string, string> = {
      FWKNOP_RUN_DIR: "/run/fwknop",
      DIGEST_FILE: "/run/fwknop-state/digest.cache",
      ACCESS_FILE: "/srv/access.conf",
      ...(mode === "udp" ? { ENABLE_UDP_SERVER: "Y" } : { PCAP_INTF: dev }),
    };
    writeFileSync(
      join(conf, "fwknopd.conf"),
      Object.entries(settings)
        .map(([k, v]) => `${k} ${v};\n`)
        .join(""),
      { mode: 0o600 },
    );
    writeFileSync(
      join(conf, "access.conf"),
      accessStanza(keys, { ENABLE_CMD_EXEC: "Y", CMD_EXEC_USER: "nobody" }),
      { mode: 0o600 },
    );

    const inSandbox = (cmd: readonly string[]) =>
      sandbox.argv(root, { readOnly: conf, readWrite: cmdDir }, cmd);
    const daemonCmd = [process.execPath, OUR_FWKNOPD, "-f", "-c", "/srv/fwknopd.conf"];
    const daemon = await startDaemon(
      { dir: conf, confFile: "", accessFile: "", digestFile: "", pidFile: "", runDir: "" },
      {
        argv: ["ip", "netns", "exec", pair.server, ...inSandbox(daemonCmd)],
        readyLog: mode === "udp" ? /Kicking off UDP server/ : /Capturing on/,
      },
    );
    t.after(() => daemon.stop());
    const pid = daemon.proc.pid as number;

    // The daemon really runs with the unit's capabilities only, and no_new_privs.
    assert.deepEqual(capsOfMask(procStatus(pid, "CapEff")), [...sandbox.caps].sort());
    assert.deepEqual(capsOfMask(procStatus(pid, "CapBnd")), [...sandbox.caps].sort());
    assert.equal(procStatus(pid, "NoNewPrivs"), "1");

    assert.equal(await canConnect(pair.client, pair.serverIp, HIDDEN_PORT), false);
    await knock(pair, keys, { binary: OUR_FWKNOP, port: HIDDEN_PORT });
    await daemon.waitForLog(/Added access rule/, 30_000);
    assert.equal(await canConnect(pair.client, pair.serverIp, HIDDEN_PORT, 5000), true);

    let since = daemon.output().length;
    await knock(pair, keys, {
      binary: OUR_FWKNOP,
      port: HIDDEN_PORT,
      extra: ["-C", "touch /mnt/ran"],
    });
    await daemon.waitForLog(/Command exited with status 0/, 30_000, since);
    assert.ok(existsSync(join(cmdDir, "ran")));
    assert.equal(statSync(join(cmdDir, "ran")).uid, NOBODY);

    // ExecReload: `fwknopd -R` in the daemon's namespaces and root, with the same limits.
    since = daemon.output().length;
    const reload = await run(
      [
        ...["nsenter", "--target", String(pid), "--mount", "--net", "--root", "--wd=/"],
        ...["setpriv", "--bounding-set", ["-all", ...sandbox.caps.map((c) => `+${c}`)].join(",")],
        "--no-new-privs",
        ...[process.execPath, OUR_FWKNOPD, "-R", "-c", "/srv/fwknopd.conf"],
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(reload.code, 0, reload.stdout + reload.stderr);
    await daemon.waitForLog(/Got SIGHUP\. Re-reading configs\./, 30_000, since);
    assert.equal(daemon.proc.exitCode, null, "the daemon stopped on reload");
    assert.equal(await daemon.stop(), 0, daemon.output());
  });
}

test("without CAP_KILL, fwknopd still stops cleanly although it cannot signal its tcpdump", async (t) => {
  if (!canUseNetns()) {
    t.skip("needs root (namespaces, mounts)");
    return;
  }
  // tcpdump runs as its own user once capturing; root without CAP_KILL may not signal it.
  const sandbox = unitSandbox(["kill"]);
  const work = mkdtempSync(join(tmpdir(), "fwk-sbx-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const root = join(work, "root");
  const conf = join(work, "conf");
  mkdirSync(root);
  mkdirSync(conf, { mode: 0o700 });
  const pair = await createNetnsPair("sbk");
  t.after(() => pair.cleanup());
  const dev = await vethDevice(pair.server);
  writeFileSync(
    join(conf, "fwknopd.conf"),
    `FWKNOP_RUN_DIR /run/fwknop;\nDIGEST_FILE /run/fwknop-state/digest.cache;\nACCESS_FILE /srv/access.conf;\nPCAP_INTF ${dev};\n`,
    { mode: 0o600 },
  );
  writeFileSync(join(conf, "access.conf"), accessStanza(randomKeys()), { mode: 0o600 });
  const daemon = await startDaemon(
    { dir: conf, confFile: "", accessFile: "", digestFile: "", pidFile: "", runDir: "" },
    {
      argv: [
        ...["ip", "netns", "exec", pair.server],
        ...sandbox.argv(root, { readOnly: conf, readWrite: work }, [
          ...[process.execPath, OUR_FWKNOPD, "-f", "-c", "/srv/fwknopd.conf"],
        ]),
      ],
      readyLog: /Capturing on/,
    },
  );
  t.after(() => daemon.stop("SIGKILL"));
  assert.ok(!capsOfMask(procStatus(daemon.proc.pid as number, "CapEff")).includes("kill"));
  const code = await daemon.stop();
  assert.equal(code, 0, daemon.output());
  assert.doesNotMatch(daemon.output(), /EPERM|node:events|at .*\.js:\d+/);
});
