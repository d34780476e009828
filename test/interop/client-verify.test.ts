/**
 * `fwknop --verify` in namespaces: our client knocks on our fwknopd guarding a hidden TCP
 * service behind a default-drop iptables policy, then probes the port. Exit 0 when it opened;
 * exit 1 with the reason after a wrong key, and against a server with no daemon running.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  type Keys,
  OUR_FWKNOP,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canUseNetns,
  createNetnsPair,
  hideServices,
  type NetnsPair,
  startHiddenService,
} from "../helpers/netns.js";

const PORT = 2222;

describe("fwknop --verify (namespaces, iptables, our fwknopd)", () => {
  let pair: NetnsPair;
  let daemon: RunningDaemon;
  const keys = randomKeys();
  const cleanups: (() => Promise<unknown>)[] = [];
  const home = mkdtempSync(join(tmpdir(), "fwk-verify-"));

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2");
    pair = await createNetnsPair("verify");
    cleanups.push(() => pair.cleanup());
    const svc = await startHiddenService(pair.server, PORT);
    cleanups.push(async () => svc.kill());
    await hideServices(pair.server);
    daemon = await startDaemon(writeConfigDir({}, accessStanza(keys, { FW_ACCESS_TIMEOUT: "3" })), {
      netns: pair.server,
    });
    cleanups.push(() => daemon.stop());
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    rmSync(home, { recursive: true, force: true });
  });

  const verifyKnock = (k: Keys, verify: string) =>
    run(
      [
        process.execPath,
        OUR_FWKNOP,
        ...["--rc-file", join(home, "fwknoprc"), "--no-save-args"],
        ...["-A", `tcp/${PORT}`, "-a", pair.clientIp, "-D", pair.serverIp],
        ...["--key-base64-rijndael", k.key, "--key-base64-hmac", k.hmac, "--use-hmac"],
        verify,
      ],
      { netns: pair.client, timeoutMs: 60_000 },
    );

  test("wrong key: exit 1, and the reason", async () => {
    const r = await verifyKnock(randomKeys(), "--verify=3");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /--verify: access did not open: 198\.18\.0\.1 tcp\/2222 accepted no connection within 3 s of the knock/,
    );
    await daemon.waitForLog(/\[FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL\]/);
  });

  test("valid knock: exit 0 once the port answers", async () => {
    const r = await verifyKnock(keys, "--verify");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^\[\+\] --verify: 198\.18\.0\.1 tcp\/2222 open \(\d+ ms after the knock\)$/m,
    );
  });

  test("dead daemon: exit 1 once the time is up", async () => {
    // The grant of the previous test closes after FW_ACCESS_TIMEOUT; then stop the daemon.
    await daemon.waitForLog(/Removed rule/, 15_000);
    await daemon.stop();
    const r = await verifyKnock(keys, "--verify=2");
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /access did not open: .* within 2 s of the knock/);
  });
});
