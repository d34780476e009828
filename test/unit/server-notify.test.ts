/**
 * sd_notify messages on a test NOTIFY_SOCKET: through the unix-dgram addon and through
 * systemd-notify(1); the watchdog interval follows WATCHDOG_USEC/WATCHDOG_PID.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { systemdNotify, watchdogInterval } from "../../src/server/notify.js";
import { listenNotifySocket } from "../helpers/notify-socket.js";
import { recorder } from "../helpers/recording-logger.js";
import { canCaptureSyslog } from "../helpers/syslog-capture.js";

test("watchdog: half of WATCHDOG_USEC, only for our PID", () => {
  assert.equal(watchdogInterval({ WATCHDOG_USEC: "20000000" }), 10_000);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: "20000000", WATCHDOG_PID: "1" }), undefined);
  assert.equal(
    watchdogInterval({ WATCHDOG_USEC: "600000", WATCHDOG_PID: String(process.pid) }),
    300,
  );
  assert.equal(watchdogInterval({}), undefined);
  assert.equal(watchdogInterval({ WATCHDOG_USEC: "junk" }), undefined);
});

test("without NOTIFY_SOCKET nothing is sent and nothing fails", async () => {
  const log = recorder();
  const n = systemdNotify({ env: {}, log, status: () => "x" });
  n.ready();
  n.stopping();
  await n.close();
  assert.deepEqual(log.lines, []);
});

for (const transport of ["unix-dgram", "systemd-notify"] as const) {
  test(`${transport}: READY=1 with STATUS, watchdog pings, RELOADING=1, STOPPING=1`, async (t) => {
    if (!canCaptureSyslog()) {
      t.skip("the optional unix-dgram addon (needed to listen) is not installed");
      return;
    }
    if (transport === "systemd-notify" && !existsSync("/usr/bin/systemd-notify")) {
      t.skip("systemd-notify is not installed");
      return;
    }
    const sock = listenNotifySocket();
    const log = recorder();
    let grants = 0;
    const n = systemdNotify({
      env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: "200000" },
      log,
      transport,
      status: () => `active grants: ${grants}`,
    });
    try {
      n.ready();
      const ready = await sock.waitFor(/^READY=1$/);
      assert.ok(sock.messages[ready]?.includes("STATUS=active grants: 0"));
      grants = 2;
      await sock.waitFor(/^WATCHDOG=1$/);
      await sock.waitFor(/^STATUS=active grants: 2$/);
      n.reloading();
      const reload = await sock.waitFor(/^RELOADING=1$/);
      assert.ok(sock.messages[reload]?.some((l) => /^MONOTONIC_USEC=\d+$/.test(l)));
      n.stopping();
      await sock.waitFor(/^STOPPING=1$/);
      if (transport === "systemd-notify")
        assert.ok(sock.messages[ready]?.includes(`MAINPID=${process.pid}`), "sent for our PID");
      assert.deepEqual(log.lines, [], "no delivery problems");
    } finally {
      await n.close();
      sock.close();
    }
  });
}

test("a missing socket is one warning, not a crash", async () => {
  const log = recorder();
  const n = systemdNotify({
    env: { NOTIFY_SOCKET: "/nonexistent/notify" },
    log,
    status: () => "x",
  });
  n.ready();
  n.ready();
  await n.close();
  const deadline = Date.now() + 10_000;
  while (log.lines.length === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0] ?? "", /^warn: systemd notification failed: /);
});
