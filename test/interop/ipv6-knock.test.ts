/**
 * IPv6 end to end: a client namespace knocks our fwknopd over IPv6 (2001:db8::/64 on the veth
 * pair) with allow-IP 0.0.0.0 (`-s`); the daemon opens the hidden port in ip6tables for the
 * client's IPv6 address, behind a default-drop ip6tables INPUT policy, and closes it on time.
 * The C fwknop 2.6.10 client cannot send to an IPv6 destination (its getaddrinfo asks for IPv4
 * only), so its packet is saved with -B and delivered over IPv6 by the test.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run, runChecked } from "../../src/sys/run.js";
import {
  accessStanza,
  C_FWKNOP,
  type Keys,
  knock,
  OUR_FWKNOP,
  OUR_FWKNOPD,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  addIpv6,
  CLIENT_IP6,
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices6,
  type NetnsPair,
  SERVER_IP6,
  sendUdp,
  startHiddenService,
  vethDevice,
} from "../helpers/netns.js";

const PORT = 2222;

describe("knocks over IPv6 → our fwknopd → ip6tables (namespaces)", () => {
  let pair: NetnsPair;
  let v6: { client: string; clientIp: string; serverIp: string };
  let daemon: RunningDaemon;
  let confFile: string;
  const keys = randomKeys();
  const strict = randomKeys();
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
    if (!existsSync("/usr/sbin/ip6tables"))
      assert.fail("needs ip6tables: apt-get install iptables");
    pair = await createNetnsPair("v6");
    cleanups.push(() => pair.cleanup());
    await addIpv6(pair);
    v6 = { client: pair.client, clientIp: CLIENT_IP6, serverIp: SERVER_IP6 };
    const svc = await startHiddenService(pair.server, PORT);
    cleanups.push(async () => svc.kill());
    await hideServices6(pair.server);
    const access = [
      accessStanza(keys, { FW_ACCESS_TIMEOUT: "3" }, "2001:db8::/64"),
      accessStanza(strict, { REQUIRE_SOURCE_ADDRESS: "Y" }),
    ].join("");
    const cfg = writeConfigDir({}, access);
    confFile = cfg.confFile;
    daemon = await startDaemon(cfg, { netns: pair.server });
    cleanups.push(() => daemon.stop());
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  const ours = (k: Keys) => knock(v6, k, { binary: OUR_FWKNOP, port: PORT, sourceAddress: true });
  const ip6Input = async () =>
    (await runChecked(["ip6tables", "-S", "FWKNOP_INPUT"], { netns: pair.server })).stdout;

  test("our client's -s knock opens the port for the IPv6 source; it closes after the timeout", async () => {
    assert.equal(await canConnect(pair.client, SERVER_IP6, PORT, 400), false, "starts closed");
    await ours(keys);
    await daemon.waitForLog(/Added access rule to FWKNOP_INPUT for 2001:db8::2 -> ::\/0 tcp\/2222/);
    assert.match(await ip6Input(), /-s 2001:db8::2\/128 .*--dport 2222 .*_exp_\d+/);
    assert.equal(await canConnect(pair.client, SERVER_IP6, PORT), true, "open after the knock");

    // --fw-list shows both families: the IPv4 chains as upstream prints them, then ip6tables.
    const list = await run([OUR_FWKNOPD, "-c", confFile, "--fw-list"], { netns: pair.server });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^Listing rules in fwknopd iptables chains\.\.\.\n/);
    assert.match(
      list.stdout,
      /Listing rules in fwknopd ip6tables chains[\s\S]*2001:db8::2 .*_exp_/,
    );

    await daemon.waitForLog(
      /Removed rule from FWKNOP_INPUT .*\(2001:db8::2 -> ::\/0 tcp\/2222\)/,
      8000,
    );
    assert.doesNotMatch(await ip6Input(), /2001:db8::2/);
    assert.equal(await canConnect(pair.client, SERVER_IP6, PORT, 400), false, "closed again");
  });

  test("-a with an IPv6 address (our extension of the message grammar) opens access for it", async () => {
    const since = daemon.output().length;
    await knock(v6, keys, { binary: OUR_FWKNOP, port: PORT + 3 });
    await daemon.waitForLog(
      /Added access rule to FWKNOP_INPUT for 2001:db8::2 -> ::\/0 tcp\/2225/,
      10_000,
      since,
    );
    assert.match(await ip6Input(), /-s 2001:db8::2\/128 .*--dport 2225 /);
  });

  test("a replayed IPv6 knock is refused", async () => {
    const wire = await ours(keys);
    await daemon.waitForLog(/SPA Packet from IP: 2001:db8::2 received/);
    await sendUdp(pair.client, SERVER_IP6, 62201, wire);
    await daemon.waitForLog(/Replay detected from source IP: 2001:db8::2/);
  });

  test("REQUIRE_SOURCE_ADDRESS still refuses a 0.0.0.0 knock over IPv6", async () => {
    await ours(strict);
    await daemon.waitForLog(/\[FWK_ERR_SPA_SOURCE_REQUIRED\]/);
  });

  test("the C client cannot send to IPv6; its -s packet, delivered over IPv6, is accepted", async () => {
    if (!existsSync(C_FWKNOP)) assert.fail(`the C client ${C_FWKNOP} is missing`);
    const dir = mkdtempSync(join(tmpdir(), "fwk-v6c-"));
    try {
      const save = join(dir, "packet");
      const r = await run(
        [
          ...[C_FWKNOP, "--rc-file", join(dir, "rc"), "--no-save-args", "-A", `tcp/${PORT + 1}`],
          ...["-s", "-D", SERVER_IP6, "--use-hmac", "-B", save],
          ...["--key-base64-rijndael", keys.key, "--key-base64-hmac", keys.hmac],
        ],
        { netns: pair.client },
      );
      // fwknop 2.6.10 builds the packet, then fails to send it (and still exits 0).
      assert.match(r.stderr + r.stdout, /Address family for hostname not supported/);
      await sendUdp(pair.client, SERVER_IP6, 62201, readFileSync(save, "utf8").trim());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await daemon.waitForLog(/Added access rule to FWKNOP_INPUT for 2001:db8::2 -> ::\/0 tcp\/2223/);
  });
});

describe("IPv6 grants in ipset mode survive a daemon restart (adoption)", () => {
  let pair: NetnsPair;
  const keys = randomKeys();
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
    pair = await createNetnsPair("v6set");
    cleanups.push(() => pair.cleanup());
    await addIpv6(pair);
    const svc = await startHiddenService(pair.server, PORT);
    cleanups.push(async () => svc.kill());
    await hideServices6(pair.server);
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test("the grant is a family inet6 set entry; a restarted daemon adopts and removes it", async () => {
    const cfg = writeConfigDir(
      { ENABLE_IPT_IPSET: "Y", FLUSH_IPT_AT_INIT: "N", FLUSH_IPT_AT_EXIT: "N" },
      accessStanza(keys, { FW_ACCESS_TIMEOUT: "4" }),
    );
    const first = await startDaemon(cfg, { netns: pair.server });
    cleanups.push(() => first.stop());
    const v6 = { client: pair.client, clientIp: CLIENT_IP6, serverIp: SERVER_IP6 };
    await knock(v6, keys, { binary: OUR_FWKNOP, port: PORT, sourceAddress: true });
    await first.waitForLog(/Added access rule to FWKNOP_INPUT for 2001:db8::2/);
    const set = () => runChecked(["ipset", "list", "FWKNOP_INPUT6"], { netns: pair.server });
    const listed = (await set()).stdout;
    assert.match(listed, /family inet6/);
    assert.match(listed, /2001:db8::2,tcp:2222 .*comment "_exp_\d+"/);
    assert.equal(await canConnect(pair.client, SERVER_IP6, PORT), true, "open after the knock");
    await first.stop();

    const second = await startDaemon(cfg, { netns: pair.server });
    cleanups.push(() => second.stop());
    await second.waitForLog(/Removed rule from FWKNOP_INPUT .*\(2001:db8::2 -> /, 60_000);
    assert.doesNotMatch((await set()).stdout, /2001:db8::2/);
    assert.equal(await canConnect(pair.client, SERVER_IP6, PORT, 400), false, "closed again");
  });
});

describe("pcap mode sniffs IPv6 knocks (default PCAP_FILTER 'udp port 62201')", () => {
  let pair: NetnsPair;
  const keys = randomKeys();
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
    if (!existsSync("/usr/bin/tcpdump"))
      assert.fail("needs /usr/bin/tcpdump: apt-get install tcpdump");
    pair = await createNetnsPair("v6pcap");
    cleanups.push(() => pair.cleanup());
    await addIpv6(pair);
    const svc = await startHiddenService(pair.server, PORT);
    cleanups.push(async () => svc.kill());
    // Port 9 instead of the SPA port: nothing lets the knock in, it is only sniffed.
    await hideServices6(pair.server, 9);
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test("a knock the firewall drops is still seen and opens the port for the IPv6 source", async () => {
    const intf = await vethDevice(pair.server);
    const cfg = writeConfigDir(
      { ENABLE_UDP_SERVER: "N", PCAP_INTF: intf },
      accessStanza(keys, { FW_ACCESS_TIMEOUT: "3" }),
    );
    const daemon = await startDaemon(cfg, { netns: pair.server, readyLog: /Capturing on \S+/ });
    cleanups.push(() => daemon.stop());
    const v6 = { client: pair.client, clientIp: CLIENT_IP6, serverIp: SERVER_IP6 };
    await knock(v6, keys, { binary: OUR_FWKNOP, port: PORT, sourceAddress: true });
    await daemon.waitForLog(/Added access rule to FWKNOP_INPUT for 2001:db8::2 -> ::\/0 tcp\/2222/);
    assert.equal(await canConnect(pair.client, SERVER_IP6, PORT), true, "open after the knock");
  });
});
