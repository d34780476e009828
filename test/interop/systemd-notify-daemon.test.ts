/**
 * Our fwknopd as a `Type=notify` service would see it: NOTIFY_SOCKET is a socket the test
 * listens on. READY=1 comes once the UDP intake listens and the iptables chains exist; STATUS=
 * carries active grants and packet counts; WATCHDOG=1 follows WATCHDOG_USEC; SIGHUP is
 * RELOADING=1 then READY=1; SIGTERM is STOPPING=1.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  C_FWKNOP,
  knock,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair, hideServices, type NetnsPair } from "../helpers/netns.js";
import { listenNotifySocket, type NotifySocket } from "../helpers/notify-socket.js";
import { canCaptureSyslog } from "../helpers/syslog-capture.js";

describe("fwknopd under a systemd-style NOTIFY_SOCKET", () => {
  let pair: NetnsPair;
  let daemon: RunningDaemon;
  let sock: NotifySocket;
  const keys = randomKeys();

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2");
    if (!existsSync(C_FWKNOP)) assert.fail(`${C_FWKNOP} is missing`);
    if (!canCaptureSyslog()) assert.fail("needs the unix-dgram addon (optional dependency)");
    pair = await createNetnsPair("notify");
    await hideServices(pair.server);
    sock = listenNotifySocket();
    daemon = await startDaemon(
      writeConfigDir({}, accessStanza(keys, { FW_ACCESS_TIMEOUT: "60" })),
      {
        netns: pair.server,
        env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: "1000000" },
      },
    );
  });

  after(async () => {
    await daemon?.stop();
    sock?.close();
    await pair?.cleanup();
  });

  test("READY=1 once intake and firewall are up, with a STATUS", async () => {
    const i = await sock.waitFor(/^READY=1$/);
    const chain = await run(["iptables", "-S", "FWKNOP_INPUT"], { netns: pair.server });
    assert.equal(chain.code, 0, "the firewall chain exists when READY=1 has been sent");
    assert.match(daemon.output(), /Kicking off UDP server/);
    assert.ok(
      sock.messages[i]?.includes("STATUS=Packets by outcome: none yet; active grants: 0"),
      JSON.stringify(sock.messages[i]),
    );
  });

  test("WATCHDOG=1 pings; STATUS follows grants and packet counts", async () => {
    await sock.waitFor(/^WATCHDOG=1$/);
    await knock(pair, keys, { port: 22 });
    await daemon.waitForLog(/Added access rule/);
    await sock.waitFor(/^STATUS=Packets by outcome: GRANTED=1; active grants: 1$/);
  });

  test("SIGHUP: RELOADING=1, then READY=1 again", async () => {
    const since = sock.messages.length;
    daemon.proc.kill("SIGHUP");
    const r = await sock.waitFor(/^RELOADING=1$/, 15_000, since);
    await sock.waitFor(/^READY=1$/, 15_000, r);
  });

  test("SIGTERM: STOPPING=1", async () => {
    const since = sock.messages.length;
    assert.equal(await daemon.stop(), 0);
    await sock.waitFor(/^STOPPING=1$/, 15_000, since);
  });
});
