/**
 * The .deb as a user meets it: built twice with the same SOURCE_DATE_EPOCH (same bytes),
 * lintian-clean, then installed with dpkg into a fresh Debian 12 root that has no Node
 * (debootstrap, test/helpers/debian-root.ts; systemd installed, not running). There: `fwknopd -V`, `fwknopd -D` on the shipped
 * configuration (keys made by the postinst), `fwknop --key-gen`, the installed unit passes
 * `systemd-analyze verify`, and a knock from a second network namespace opens a hidden TCP
 * port — daemon (sniffing through the root's tcpdump) and client both from the package. Then
 * `dpkg -r` removes it, and beside Debian's fwknop-server dpkg refuses it, naming the conflict.
 *
 * Slow the first time (debootstrap downloads and installs ~100 packages); the root is cached
 * under build/debootstrap/ afterwards.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { run, runChecked } from "../../src/sys/run.js";
import { startDaemon } from "../helpers/daemon.js";
import { type DebianRoot, freshDebianRoot } from "../helpers/debian-root.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  startHiddenService,
  vethDevice,
} from "../helpers/netns.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const EPOCH = "1767225600"; // any fixed time: both builds must use the same one
const HIDDEN_PORT = 2222;

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

async function buildDeb(out: string): Promise<string> {
  const r = await run(["bash", join(ROOT, "scripts/deb.sh"), out], {
    env: { SOURCE_DATE_EPOCH: EPOCH },
    timeoutMs: 900_000,
  });
  assert.equal(r.code, 0, `scripts/deb.sh failed:\n${r.stdout}${r.stderr}`);
  const debs = readdirSync(out).filter((f) => f.endsWith(".deb"));
  assert.equal(debs.length, 1, `expected one .deb in ${out}: ${debs.join(" ")}`);
  return join(out, debs[0] as string);
}

/** Package names of the .deb's Depends (first of each alternative, no versions). */
async function depends(deb: string): Promise<string[]> {
  const r = await runChecked(["dpkg-deb", "-f", deb, "Depends"]);
  return r.stdout
    .split(",")
    .map((d) => (d.split("|")[0] ?? "").trim().split(/\s/)[0] ?? "")
    .filter((n) => n !== "");
}

test("the .deb: reproducible, lintian-clean, and working in a Debian 12 root without Node", {
  timeout: 40 * 60_000,
}, async (t) => {
  if (!canUseNetns()) {
    t.skip("needs root (dpkg in a chroot, network namespaces)");
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "fwk-deb-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // What users run: the bundles from the current sources.
  await runChecked([process.execPath, join(ROOT, "dist/scripts/bundle.js")], {
    timeoutMs: 300_000,
  });
  const deb = await buildDeb(join(work, "a"));
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const arch = (await runChecked(["dpkg", "--print-architecture"])).stdout.trim();
  assert.equal(deb, join(work, "a", `fwknop-ts_${version}_${arch}.deb`));

  await t.test("same input, same bytes", async () => {
    const again = await buildDeb(join(work, "b"));
    assert.equal(sha256(again), sha256(deb));
  });

  await t.test("lintian reports no error and no warning", async () => {
    const r = await run(["lintian", "--fail-on", "error,warning", deb], { timeoutMs: 900_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /^[EW]: /m);
  });

  // systemd too, as on any Debian server: `systemd-analyze verify --root` resolves the unit's
  // targets there (it is installed, never run).
  const root: DebianRoot = await freshDebianRoot([...(await depends(deb)), "systemd"]);
  t.after(() => root.cleanup());
  copyFileSync(deb, join(root.dir, "tmp/fwknop-ts.deb"));

  await t.test("the root has no Node; dpkg -i installs the package", async () => {
    const node = await root.run(["sh", "-c", "command -v node || command -v nodejs"]);
    assert.notEqual(node.code, 0, `node found in the root: ${node.stdout}`);
    const r = await root.run(["dpkg", "-i", "/tmp/fwknop-ts.deb"], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const keys = readFileSync(join(root.dir, "etc/fwknop/access.keys"), "utf8");
    assert.match(keys, /^KEY_BASE64: \S+\nHMAC_KEY_BASE64: \S+\n$/);
  });

  await t.test("fwknopd -V, fwknopd -D on the shipped config, fwknop --key-gen", async () => {
    const v = await root.run(["fwknopd", "-V"]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(
      v.stdout,
      new RegExp(`fwknopd server ${version.replaceAll(".", "\\.")} \\(fwknop-ts\\)`),
    );
    const d = await root.run(["fwknopd", "-D"]);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /DIGEST_FILE\s+=\s+'\/var\/lib\/fwknop\/digest\.cache'/);
    assert.match(d.stdout, /FWKNOP_RUN_DIR\s+=\s+'\/run\/fwknop'/);
    assert.match(d.stdout, /^SOURCE \(1\): {2}ANY$/m);
    assert.match(d.stdout, /REQUIRE_SOURCE_ADDRESS: {2}Yes/);
    const k = await root.run(["fwknop", "--key-gen"], { env: { HOME: "/root" } });
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /^KEY_BASE64: \S+\nHMAC_KEY_BASE64: \S+\n/);
  });

  await t.test("systemd-analyze verify accepts the installed unit", async () => {
    const unit = join(root.dir, "lib/systemd/system/fwknopd.service");
    const r = await run(["systemd-analyze", "verify", "--man=no", `--root=${root.dir}`, unit], {
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stderr.trim(), "");
  });

  await t.test("a knock from another namespace opens the hidden port", async (tt) => {
    const pair = await createNetnsPair("deb");
    tt.after(() => pair.cleanup());
    await hideServices(pair.server);
    const service = await startHiddenService(pair.server, HIDDEN_PORT);
    tt.after(() => service.kill());
    assert.equal(await canConnect(pair.client, pair.serverIp, HIDDEN_PORT), false);

    const dev = await vethDevice(pair.server);
    const daemon = await startDaemon(
      { dir: "", confFile: "", accessFile: "", digestFile: "", pidFile: "", runDir: "" },
      {
        argv: ["ip", "netns", "exec", pair.server, ...root.argv(["fwknopd", "-f", "-i", dev])],
        readyLog: /Capturing on/,
      },
    );
    tt.after(() => daemon.stop());
    const keys = readFileSync(join(root.dir, "etc/fwknop/access.keys"), "utf8");
    const key = /^KEY_BASE64: (\S+)$/m.exec(keys)?.[1] ?? "";
    const hmac = /^HMAC_KEY_BASE64: (\S+)$/m.exec(keys)?.[1] ?? "";
    const knock = await root.run(
      [
        "fwknop",
        ...["-A", `tcp/${HIDDEN_PORT}`, "-a", pair.clientIp, "-D", pair.serverIp],
        ...["--key-base64-rijndael", key, "--key-base64-hmac", hmac, "--use-hmac"],
      ],
      { netns: pair.client, env: { HOME: "/root" } },
    );
    assert.equal(knock.code, 0, knock.stdout + knock.stderr);
    await daemon.waitForLog(/Added access rule/, 60_000);
    assert.equal(await canConnect(pair.client, pair.serverIp, HIDDEN_PORT, 5000), true);
    assert.equal(await daemon.stop(), 0);
  });

  await t.test("dpkg -r removes it cleanly; purge removes keys and state", async () => {
    const r = await root.run(["dpkg", "-r", "fwknop-ts"], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const gone of ["usr/sbin/fwknopd", "usr/bin/fwknop", "usr/lib/fwknop-ts"]) {
      assert.equal(existsSync(join(root.dir, gone)), false, `${gone} left behind`);
    }
    // A plain remove keeps the administrator's configuration, as for any package.
    assert.equal(existsSync(join(root.dir, "etc/fwknop/access.conf")), true);
    const p = await root.run(["dpkg", "-P", "fwknop-ts"], { timeoutMs: 300_000 });
    assert.equal(p.code, 0, p.stdout + p.stderr);
    for (const gone of ["etc/fwknop", "var/lib/fwknop"]) {
      assert.equal(existsSync(join(root.dir, gone)), false, `${gone} left after purge`);
    }
    const s = await root.run(["dpkg", "-s", "fwknop-ts"]);
    assert.notEqual(s.code, 0, "dpkg still knows the purged package");
  });

  await t.test(
    "beside Debian's fwknop-server, dpkg refuses it and names the conflict",
    async () => {
      const dl = mkdtempSync(join(work, "dl-"));
      const d = await run(["apt-get", "download", "fwknop-server"], {
        cwd: dl,
        timeoutMs: 300_000,
      });
      assert.equal(d.code, 0, `apt-get download fwknop-server: ${d.stderr}`);
      const cdeb = readdirSync(dl).find((f) => f.startsWith("fwknop-server_"));
      assert.ok(cdeb);
      copyFileSync(join(dl, cdeb), join(root.dir, "tmp/fwknop-server.deb"));
      // Its own dependencies (libfko3, ...) are not the point here: unpacked is enough for dpkg.
      const c = await root.run(["dpkg", "-i", "--force-depends", "/tmp/fwknop-server.deb"], {
        timeoutMs: 300_000,
      });
      assert.equal(c.code, 0, c.stdout + c.stderr);
      const r = await root.run(["dpkg", "-i", "/tmp/fwknop-ts.deb"], { timeoutMs: 300_000 });
      assert.notEqual(r.code, 0, `dpkg installed it beside fwknop-server:\n${r.stdout}`);
      assert.match(r.stderr, /fwknop-ts conflicts with fwknop-server/);
      assert.equal(existsSync(join(root.dir, "usr/lib/fwknop-ts")), false);
    },
  );
});
