/**
 * Our fwknopd in pcap mode, knocked by the real fwknop 2.6.10 client across a veth pair: the
 * server namespace DROPs every inbound packet, the SPA port included, and sniffing still sees
 * the knock and opens the hidden port. Also `-P tcp` against the dummy TCP server, `-P http`,
 * EXIT_AT_INTF_DOWN, and `--pcap-file` replay of what the real tcpdump captured.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { run, runChecked } from "../../src/sys/run.js";
import {
  accessStanza,
  C_FWKNOP,
  type Keys,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  type NetnsPair,
  sendUdp,
  startHiddenService,
} from "../helpers/netns.js";
import { pcapFile } from "../helpers/pcap-writer.js";

const TCPDUMP = "/usr/bin/tcpdump";
/** One hidden port per transport, so each knock's grant is its own rule. */
const PORTS = { udp: 2222, tcp: 2223, http: 2224 } as const;
const CAPTURING = /Capturing on \S+ with filter/;

function requirePeers(): void {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  if (!existsSync(C_FWKNOP))
    assert.fail(`the C client ${C_FWKNOP} is missing: apt-get install fwknop-client`);
  if (!existsSync(TCPDUMP)) assert.fail(`${TCPDUMP} is missing: apt-get install tcpdump`);
}

/** The veth device of the server namespace. */
async function serverVeth(pair: NetnsPair): Promise<string> {
  const out = await runChecked(["ip", "-n", pair.server, "-o", "link", "show", "type", "veth"]);
  const dev = out.stdout.split(":")[1]?.trim().split("@")[0];
  if (!dev) throw new Error(`no veth device in ${pair.server}`);
  return dev;
}

/**
 * INPUT policy DROP with no exception for the SPA port: only loopback, established traffic
 * and the listed TCP ports (the dummy TCP server must complete handshakes) get in. UDP to the
 * SPA port is dropped by an explicit rule, whose counter proves the knock never got through.
 */
async function dropEverything(ns: string, tcpPorts: number[] = []): Promise<void> {
  const ipt = (...a: string[]) => runChecked(["iptables", ...a], { netns: ns });
  await ipt("-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-p", "udp", "--dport", "62201", "-j", "DROP");
  for (const p of tcpPorts)
    await ipt("-A", "INPUT", "-p", "tcp", "--dport", String(p), "-j", "ACCEPT");
  await ipt("-P", "INPUT", "DROP");
}

async function cKnock(pair: NetnsPair, keys: Keys, port: number, extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), "fwk-pcap-knock-"));
  const save = join(dir, "packet");
  const r = await run(
    [
      C_FWKNOP,
      "--rc-file",
      join(dir, "fwknoprc"),
      "--no-save-args",
      "-A",
      `tcp/${port}`,
      "-a",
      pair.clientIp,
      "-D",
      pair.serverIp,
      "--key-base64-rijndael",
      keys.key,
      "--key-base64-hmac",
      keys.hmac,
      "--use-hmac",
      "-B",
      save,
      ...extra,
    ],
    { netns: pair.client, timeoutMs: 15_000 },
  );
  assert.equal(r.code, 0, `fwknop failed: ${r.stderr}${r.stdout}`);
  return readFileSync(save, "utf8").trim();
}

/** Waits until `re` shows up in what the daemon logged after `from`. */
async function logAfter(d: RunningDaemon, from: number, re: RegExp, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(d.output().slice(from)) && Date.now() < deadline) await sleep(50);
  assert.match(d.output().slice(from), re);
}

describe("live capture: the C client knocks through an INPUT policy that drops everything", () => {
  let pair: NetnsPair;
  let daemon: RunningDaemon;
  let capture: ChildProcess | undefined;
  const keys = randomKeys();
  const captureFile = join(mkdtempSync(join(tmpdir(), "fwk-pcap-cap-")), "knock.pcap");
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    requirePeers();
    pair = await createNetnsPair("pcap");
    cleanups.push(() => pair.cleanup());
    for (const port of Object.values(PORTS)) {
      const svc = await startHiddenService(pair.server, port);
      cleanups.push(async () => svc.kill());
    }
    await dropEverything(pair.server, [62201]);
    const veth = await serverVeth(pair);
    const conf = {
      ENABLE_UDP_SERVER: "N",
      PCAP_INTF: veth,
      PCAP_FILTER: "udp port 62201 or tcp port 62201",
      ENABLE_TCP_SERVER: "Y",
      ENABLE_SPA_OVER_HTTP: "Y",
    };
    daemon = await startDaemon(
      writeConfigDir(conf, accessStanza(keys, { FW_ACCESS_TIMEOUT: "30" })),
      {
        netns: pair.server,
        readyLog: CAPTURING,
      },
    );
    cleanups.push(() => daemon.stop());
  });

  after(async () => {
    capture?.kill("SIGKILL");
    for (const c of cleanups.reverse()) await c();
  });

  test("UDP: no socket on 62201, the datagram is dropped by netfilter, and the port opens", async () => {
    const sockets = await runChecked(["ss", "-Hlun"], { netns: pair.server });
    assert.doesNotMatch(sockets.stdout, /:62201\b/, "pcap mode must not bind the SPA port");
    // Record the knock with the real tcpdump too, for the --pcap-file test below. Immediate
    // mode: otherwise the packet may still sit in libpcap's buffer when tcpdump is stopped.
    capture = spawn(
      "ip",
      [
        "netns",
        "exec",
        pair.server,
        TCPDUMP,
        "-i",
        await serverVeth(pair),
        "-U",
        "--immediate-mode",
        "-w",
        captureFile,
        "udp port 62201",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    await new Promise<void>((resolve) =>
      capture?.stderr?.on("data", (d: Buffer) => /listening/.test(d.toString()) && resolve()),
    );
    assert.equal(await canConnect(pair.client, pair.serverIp, PORTS.udp, 400), false);
    const from = daemon.output().length;
    const wire = await cKnock(pair, keys, PORTS.udp);
    await logAfter(daemon, from, /Added .*198\.18\.0\.2.*2222|Added .*2222.*198\.18\.0\.2/);
    assert.equal(await canConnect(pair.client, pair.serverIp, PORTS.udp), true);
    const counters = await runChecked(["iptables", "-L", "INPUT", "-v", "-x", "-n"], {
      netns: pair.server,
    });
    const dropped = /^\s*(\d+)\s+\d+\s+DROP\s+.*udp dpt:62201/m.exec(counters.stdout)?.[1];
    assert.ok(Number(dropped) >= 1, `netfilter must have dropped the knock:\n${counters.stdout}`);
    // The same packet again is a replay, so the sniffed candidates carry a real digest path.
    const again = daemon.output().length;
    await sendUdp(pair.client, pair.serverIp, 62201, wire);
    await logAfter(daemon, again, /Replay detected from source IP: 198\.18\.0\.2/);
    capture.kill("SIGINT");
    await new Promise((resolve) => capture?.once("exit", resolve));
    capture = undefined;
  });

  test("fwknop -P tcp: the dummy TCP server takes the connection, pcap reads the knock", async () => {
    const from = daemon.output().length;
    await cKnock(pair, keys, PORTS.tcp, ["-P", "tcp"]);
    await logAfter(daemon, from, /Added .*2223/);
    assert.equal(await canConnect(pair.client, pair.serverIp, PORTS.tcp), true);
  });

  test("fwknop -P http: the GET request is sniffed and its SPA data accepted", async () => {
    const from = daemon.output().length;
    await cKnock(pair, keys, PORTS.http, ["-P", "http"]);
    await logAfter(daemon, from, /Added .*2224/);
    assert.equal(await canConnect(pair.client, pair.serverIp, PORTS.http), true);
  });

  test("--pcap-file with -t replays the real tcpdump capture, then the daemon exits 0", async () => {
    assert.ok(statSync(captureFile).size > 24, "the capture holds the knock");
    const d = await startDaemon(writeConfigDir({ ENABLE_UDP_SERVER: "N" }, accessStanza(keys)), {
      args: ["--pcap-file", captureFile, "-t"],
      readyLog: /Starting fwknopd main event loop/,
    });
    assert.equal(await d.exited, 0, d.output());
    assert.match(
      d.output(),
      /\[198\.18\.0\.2\] \(stanza #1\) --test mode enabled, skipping firewall manipulation/,
    );
    assert.match(d.output(), /Finished reading pcap file .*\(\d+ packets, 2 payloads\)/);
  });
});

describe("--pcap-file on a pcap-writer file: the daemon never touches the network", () => {
  test("a C client packet among junk is accepted in -t mode, then the daemon exits 0", async () => {
    requirePeers();
    const keys = randomKeys();
    const dir = mkdtempSync(join(tmpdir(), "fwk-pcap-file-"));
    const r = await run([
      C_FWKNOP,
      "--rc-file",
      join(dir, "rc"),
      "--no-save-args",
      "-A",
      "tcp/22",
      "-a",
      "198.18.7.7",
      "-D",
      "198.18.0.1",
      "--key-base64-rijndael",
      keys.key,
      "--key-base64-hmac",
      keys.hmac,
      "--use-hmac",
      "-T",
      "-B",
      join(dir, "wire"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const payload = Buffer.from(readFileSync(join(dir, "wire"), "utf8").trim());
    const frame = { srcIp: "198.18.7.7", dstIp: "198.18.0.1", srcPort: 5555, dstPort: 62201 };
    const file = join(dir, "knock.pcap");
    const junk = Buffer.from("not an SPA packet".repeat(10));
    writeFileSync(
      file,
      pcapFile([
        { ...frame, payload: junk },
        { ...frame, payload },
      ]),
    );
    const d = await startDaemon(
      writeConfigDir({ ENABLE_UDP_SERVER: "N", PCAP_FILE: file }, accessStanza(keys)),
      {
        args: ["-t"],
        readyLog: /Starting fwknopd main event loop/,
      },
    );
    assert.equal(await d.exited, 0, d.output());
    assert.match(
      d.output(),
      /\[198\.18\.7\.7\] \(stanza #1\) --test mode enabled, skipping firewall manipulation/,
    );
    assert.match(d.output(), /Finished reading pcap file .*\(2 packets, 2 payloads\)/);
  });
});

describe("EXIT_AT_INTF_DOWN", () => {
  test("the daemon exits with status 1 when its capture interface disappears", async (t) => {
    requirePeers();
    const pair = await createNetnsPair("pcapdown");
    t.after(() => pair.cleanup());
    const veth = await serverVeth(pair);
    const d = await startDaemon(
      writeConfigDir({ ENABLE_UDP_SERVER: "N", PCAP_INTF: veth }, accessStanza(randomKeys())),
      { netns: pair.server, readyLog: CAPTURING },
    );
    t.after(() => d.stop());
    await runChecked(["ip", "-n", pair.server, "link", "del", veth]);
    const code = await Promise.race([d.exited, sleep(8000, "still running")]);
    assert.equal(code, 1, d.output());
    assert.match(d.output(), /Packet capture on .* ended: .*\[FWK_ERR_PCAP_CAPTURE_LOST\]/);
  });
});
