/**
 * End to end with FIREWALL_TYPE firewalld against a real firewalld 1.3 (nftables backend) in a
 * namespace, on a private D-Bus bus (test/helpers/firewalld.ts): the C client 2.6.10 knocks on
 * our fwknopd. Two hidden ports: 2222 hidden by the zone (public does not list it, the normal
 * case) and 2223 listed in the zone but hidden by a direct REJECT rule.
 * - rich mode (default): the knock opens the zone-hidden port; it closes on time; after kill -9
 *   of fwknopd, firewalld still closes it (the rich rule's --timeout).
 * - IPv6: our client knocks over IPv6 (the C client cannot), and a family="ipv6" rich rule opens
 *   the zone-hidden port for the client's IPv6 address.
 * - passthrough mode (2.6.10's rules): the knock opens the REJECT-hidden port but not the
 *   zone-hidden one (measured: firewalld's nftables zone rejects what iptables accepted);
 *   --fw-list shows our direct chains, --fw-flush removes them.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  C_FWKNOP,
  knock,
  OUR_FWKNOP,
  OUR_FWKNOPD,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  FIREWALL_CMD,
  missingFirewalld,
  startFirewalld,
  type TestFirewalld,
} from "../helpers/firewalld.js";
import {
  addIpv6,
  CLIENT_IP6,
  canConnect,
  canUseNetns,
  createNetnsPair,
  type NetnsPair,
  SERVER_IP6,
  startHiddenService,
} from "../helpers/netns.js";

const ZONE_HIDDEN = 2222;
/** fwknopd's firewalld init is a dozen firewall-cmd calls (≈ 0.2 s each, seconds under load). */
const READY_MS = 120_000;
const REJECT_HIDDEN = 2223;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let pair: NetnsPair;
let fwd: TestFirewalld;
const services: ChildProcess[] = [];
const keys = randomKeys();

const open = (port: number, timeoutMs = 700) =>
  canConnect(pair.client, pair.serverIp, port, timeoutMs);

/** Polls until the port is closed, bounded; true once it is. */
async function closesWithin(port: number, boundMs: number): Promise<boolean> {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    if (!(await open(port, 400))) return true;
    await sleep(250);
  }
  return false;
}

before(async () => {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  if (!existsSync(C_FWKNOP)) assert.fail(`the C client ${C_FWKNOP} is missing`);
  const missing = missingFirewalld();
  if (missing) assert.fail(missing);
  pair = await createNetnsPair("fwdd");
  await addIpv6(pair);
  fwd = await startFirewalld(pair.server);
  // The SPA port must reach the daemon; 2223 is in the zone but a direct rule rejects it.
  await fwd.cmd("--add-port=62201/udp");
  await fwd.cmd(`--add-port=${REJECT_HIDDEN}/tcp`);
  await fwd.cmd(
    "--direct",
    "--add-rule",
    "ipv4",
    "filter",
    "INPUT",
    "0",
    "-p",
    "tcp",
    "--dport",
    String(REJECT_HIDDEN),
    "-j",
    "REJECT",
  );
  for (const port of [ZONE_HIDDEN, REJECT_HIDDEN])
    services.push(await startHiddenService(pair.server, port));
});

after(async () => {
  for (const s of services) s.kill();
  await fwd?.stop();
  await pair?.cleanup();
});

describe("rich mode (FIREWALL_TYPE firewalld, the default FIREWD_MODE)", () => {
  test("the knock opens the port the zone hides; it closes on time; kill -9 of fwknopd does not keep it open", async () => {
    assert.equal(await open(ZONE_HIDDEN, 400), false, "hidden by the zone at start");
    const cfg = writeConfigDir(
      { FIREWALL_TYPE: "firewalld" },
      accessStanza(keys, { FW_ACCESS_TIMEOUT: "6" }),
    );
    let daemon = await startDaemon(cfg, { netns: pair.server, readyTimeoutMs: READY_MS });
    try {
      await knock(pair, keys, { port: ZONE_HIDDEN });
      const added = await daemon.waitForLog(
        /Added access rule to zone \(default\) for 198\.18\.0\.2 -> 0\.0\.0\.0\/0 tcp\/2222, expires at (\d+)/,
        20_000,
      );
      const exp = Number(/expires at (\d+)/.exec(added)?.[1]);
      assert.equal(await open(ZONE_HIDDEN), true, "open after the knock");
      const rich = await fwd.cmd("--list-rich-rules");
      assert.match(
        rich,
        new RegExp(
          `rule family="ipv4" source address="198\\.18\\.0\\.2" port port="2222" protocol="tcp" log prefix="fwknop _exp_${exp} "`,
        ),
      );
      await daemon.waitForLog(
        new RegExp(`Removed rule from zone \\(default\\) with expire time of ${exp}`),
        20_000,
      );
      assert.equal(await open(ZONE_HIDDEN, 400), false, "closed on time");
      await daemon.stop();

      // Crash safety: the grant outlives a kill -9 of fwknopd only until its timeout.
      daemon = await startDaemon(cfg, { netns: pair.server, readyTimeoutMs: READY_MS });
      await knock(pair, keys, { port: ZONE_HIDDEN });
      const again = await daemon.waitForLog(
        /Added access rule to zone \(default\) for 198\.18\.0\.2.*expires at (\d+)/,
        20_000,
      );
      const exp2 = Number(/expires at (\d+)/.exec(again)?.[1]);
      assert.equal(await open(ZONE_HIDDEN), true, "open after the second knock");
      await daemon.stop("SIGKILL");
      const left = Math.max(0, exp2 * 1000 - Date.now());
      assert.equal(
        await closesWithin(ZONE_HIDDEN, left + 15_000),
        true,
        "firewalld closed it without fwknopd",
      );
      assert.ok(Date.now() >= exp2 * 1000 - 1000, "not closed before its expiry");
      assert.doesNotMatch(await fwd.cmd("--list-rich-rules"), /_exp_/);
    } finally {
      await daemon.stop();
    }
  });
});

describe("IPv6 in rich mode", () => {
  test("a knock over IPv6 opens the zone-hidden port for the client's IPv6 address only", async () => {
    const v6 = { client: pair.client, clientIp: CLIENT_IP6, serverIp: SERVER_IP6 };
    const open6 = (timeoutMs = 700) => canConnect(pair.client, SERVER_IP6, ZONE_HIDDEN, timeoutMs);
    assert.equal(await open6(400), false, "hidden by the zone over IPv6 too");
    const cfg = writeConfigDir(
      { FIREWALL_TYPE: "firewalld" },
      accessStanza(keys, { FW_ACCESS_TIMEOUT: "30" }, "2001:db8::/64"),
    );
    const daemon = await startDaemon(cfg, { netns: pair.server, readyTimeoutMs: READY_MS });
    try {
      await knock(v6, keys, { binary: OUR_FWKNOP, port: ZONE_HIDDEN, sourceAddress: true });
      await daemon.waitForLog(
        /Added access rule to zone \(default\) for 2001:db8::2 -> ::\/0 tcp\/2222, expires at \d+/,
        20_000,
      );
      assert.equal(await open6(), true, "open over IPv6");
      assert.match(
        await fwd.cmd("--list-rich-rules"),
        /rule family="ipv6" source address="2001:db8::2" port port="2222" protocol="tcp" log prefix="fwknop _exp_\d+ "/,
      );
      assert.equal(
        await open(ZONE_HIDDEN, 400),
        false,
        "the IPv4 address of the client was not opened",
      );
    } finally {
      await daemon.stop(); // FLUSH_FIREWD_AT_EXIT Y: our rich rules go
    }
    assert.doesNotMatch(await fwd.cmd("--list-rich-rules"), /_exp_/);
    assert.equal(await open6(400), false, "closed again after exit");
  });
});

describe("passthrough mode (FIREWD_MODE passthrough: fwknopd 2.6.10's direct rules)", () => {
  test("the knock opens the port a direct REJECT hides, not the one the zone hides; --fw-list and --fw-flush", async () => {
    assert.equal(await open(REJECT_HIDDEN, 400), false, "hidden by the direct REJECT at start");
    const cfg = writeConfigDir(
      { FIREWALL_TYPE: "firewalld", FIREWD_MODE: "passthrough" },
      accessStanza(keys, { FW_ACCESS_TIMEOUT: "60" }),
    );
    const daemon = await startDaemon(cfg, { netns: pair.server, readyTimeoutMs: READY_MS });
    try {
      await knock(pair, keys, { port: REJECT_HIDDEN });
      const added = await daemon.waitForLog(
        /Added access rule to FWKNOP_INPUT for 198\.18\.0\.2 -> 0\.0\.0\.0\/0 tcp\/2223, expires at (\d+)/,
        20_000,
      );
      const exp = Number(/expires at (\d+)/.exec(added)?.[1]);
      assert.equal(await open(REJECT_HIDDEN), true, "open after the knock");

      const since = daemon.output().length;
      await knock(pair, keys, { port: ZONE_HIDDEN });
      await daemon.waitForLog(
        /Added access rule to FWKNOP_INPUT for 198\.18\.0\.2 -> 0\.0\.0\.0\/0 tcp\/2222/,
        20_000,
        since,
      );
      assert.equal(
        await open(ZONE_HIDDEN, 400),
        false,
        "the zone still rejects what the passthrough rule accepted",
      );

      const listed = await run([OUR_FWKNOPD, "-c", cfg.confFile, "--fw-list"], {
        netns: pair.server,
      });
      assert.match(
        listed.stdout,
        /^Listing rules in fwknopd firewalld chains\.\.\.\n\nChain FWKNOP_INPUT \(1 references\)/,
      );
      assert.match(
        listed.stdout,
        new RegExp(
          `ACCEPT +6 +-- +198\\.18\\.0\\.2 +0\\.0\\.0\\.0/0 +tcp dpt:2223 /\\* _exp_${exp} \\*/`,
        ),
      );
      const direct = await run(
        [FIREWALL_CMD, "--direct", "--passthrough", "ipv4", "-t", "filter", "-S", "INPUT"],
        { netns: pair.server },
      );
      assert.match(direct.stdout, /^-A INPUT -j FWKNOP_INPUT$/m);

      const flushed = await run([OUR_FWKNOPD, "-c", cfg.confFile, "--fw-flush"], {
        netns: pair.server,
      });
      assert.equal(flushed.code, 0, flushed.stderr);
      const save = await run(["iptables-save"], { netns: pair.server });
      assert.doesNotMatch(save.stdout, /FWKNOP/, "our chains and jump rule are gone");
      assert.equal(await open(REJECT_HIDDEN, 400), false, "hidden again after --fw-flush");
    } finally {
      await daemon.stop();
    }
  });
});
