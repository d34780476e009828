/**
 * The pcap intakes without capture privileges: the tcpdump command line, a missing tcpdump,
 * pcap-file replay (order, end of input, truncation, corruption, bad files), the dummy TCP server
 * and the mode selection from fwknopd.conf. Live capture itself is in test/interop.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadServerConfig } from "../../src/config/server-config.js";
import { FwknopError } from "../../src/errors.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import {
  createPcapFileIntake,
  createPcapLiveIntake,
  type PcapLiveOptions,
  tcpdumpArgv,
} from "../../src/server/intake/pcap.js";
import { createIntakeFromConfig, liveOptionsFromConfig } from "../../src/server/intake/select.js";
import { createDummyTcpServer } from "../../src/server/intake/tcp-server.js";
import { pcapFile, type UdpFrame } from "../helpers/pcap-writer.js";
import { recorder } from "../helpers/recording-logger.js";

const work = mkdtempSync(join(tmpdir(), "fwk-intake-pcap-"));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

function write(bytes: Buffer | string): string {
  const path = join(work, `f${++seq}`);
  writeFileSync(path, bytes, { mode: 0o600 });
  return path;
}

const frame = (i: number, payload = Buffer.from(`SPA-${i}-`.padEnd(160, "x"))): UdpFrame => ({
  srcIp: `198.18.1.${i}`,
  dstIp: "198.18.0.1",
  srcPort: 40000 + i,
  dstPort: 62201,
  payload,
  time: 1700000000 + i,
});

const rejects = (p: Promise<unknown>, code: string, re: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FwknopError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });

describe("tcpdump command line", () => {
  const base: PcapLiveOptions = {
    intf: "eth0",
    filter: "udp port 62201",
    snaplen: 1500,
    promisc: false,
    anyDirection: false,
    exitAtIntfDown: true,
    log: recorder(),
    tcpdump: "/usr/bin/tcpdump",
  };

  test("defaults: inbound only, not promiscuous, packet-buffered to stdout", () => {
    assert.deepEqual(tcpdumpArgv(base), [
      "/usr/bin/tcpdump",
      "-i",
      "eth0",
      "-U",
      "--immediate-mode",
      "-w",
      "-",
      "-s",
      "1500",
      "-p",
      "-Q",
      "in",
      "--",
      "udp port 62201",
    ]);
  });

  test("promiscuous, any direction, other snap length, empty filter", () => {
    const argv = tcpdumpArgv({
      ...base,
      promisc: true,
      anyDirection: true,
      snaplen: 96,
      filter: " ",
    });
    assert.deepEqual(argv.slice(3), ["-U", "--immediate-mode", "-w", "-", "-s", "96"]);
  });

  test("a missing tcpdump is a clean start-up error", async () => {
    const intake = createPcapLiveIntake({ ...base, tcpdump: join(work, "no-such-tcpdump") });
    await rejects(
      intake.start(() => {}),
      "FWK_ERR_PCAP_TCPDUMP",
      /was not found.*ENABLE_UDP_SERVER/,
    );
    await intake.stop();
  });
});

/**
 * A stand-in for tcpdump (a shell script in the temp dir): says it listens, writes a capture to
 * stdout, complains and exits, as tcpdump does when its interface disappears. Each run appends
 * to `runs` so restarts can be counted.
 */
function fakeTcpdump(capture: Buffer, opts: { failAfter?: number } = {}) {
  const data = write(capture);
  const runs = write("");
  const script = write(
    [
      "#!/bin/sh",
      `echo run >> ${runs}`,
      // After failAfter runs, fail the way tcpdump does for a missing interface.
      ...(opts.failAfter === undefined
        ? []
        : [
            `if [ "$(wc -l < ${runs})" -gt ${opts.failAfter} ]; then`,
            "  echo 'tcpdump: vs0: No such device exists' >&2; exit 1",
            "fi",
          ]),
      "echo 'tcpdump: listening on vs0, link-type EN10MB (Ethernet), snapshot length 1500 bytes' >&2",
      `cat ${data}`,
      "echo 'tcpdump: pcap_loop: The interface disappeared' >&2",
      "echo '1 packet captured' >&2",
      "exit 1",
      "",
    ].join("\n"),
  );
  chmodSync(script, 0o700);
  return { script, runs: () => readFileSync(runs, "utf8").split("\n").length - 1 };
}

describe("live capture lifecycle (with a stand-in tcpdump)", () => {
  const live = (tcpdump: string, exitAtIntfDown: boolean, log = recorder()) =>
    createPcapLiveIntake({
      intf: "vs0",
      filter: "udp port 62201",
      snaplen: 1500,
      promisc: false,
      anyDirection: false,
      exitAtIntfDown,
      log,
      tcpdump,
      restartDelayMs: 5,
    });

  test("EXIT_AT_INTF_DOWN Y: packets are handed on, then the loss ends the intake", async () => {
    const fake = fakeTcpdump(pcapFile([frame(1), frame(2)]));
    const log = recorder();
    const intake = live(fake.script, true, log);
    const got: Candidate[] = [];
    await intake.start((c) => void got.push(c));
    const end = await intake.ended;
    assert.deepEqual([end.code, end.level], [1, "error"]);
    assert.equal(
      end.message,
      "Packet capture on vs0 ended: tcpdump: pcap_loop: The interface disappeared [FWK_ERR_PCAP_CAPTURE_LOST]",
    );
    assert.deepEqual(
      got.map((c) => c.srcIp),
      ["198.18.1.1", "198.18.1.2"],
    );
    assert.ok(
      log.lines.some((l) => /^info: Capturing on vs0 with filter 'udp port 62201'/.test(l)),
    );
    await intake.stop();
  });

  test("EXIT_AT_INTF_DOWN N: capture restarts, and gives up after 100 failed restarts", async () => {
    const fake = fakeTcpdump(pcapFile([frame(1)]), { failAfter: 3 });
    const log = recorder();
    const intake = live(fake.script, false, log);
    const got: Candidate[] = [];
    await intake.start((c) => void got.push(c));
    const end = await intake.ended;
    assert.equal(end.code, 1);
    assert.match(end.message, /Giving up after 100 failed capture restarts: .*No such device/);
    assert.equal(got.length, 3, "each successful run's packets are read with a fresh parser");
    assert.equal(fake.runs(), 3 + 100);
    assert.equal(log.lines.filter((l) => /restarting capture/.test(l)).length, 3);
  });

  test("stop() ends a running tcpdump without reporting an end", async () => {
    const script = write("#!/bin/sh\necho 'tcpdump: listening on vs0' >&2\nexec sleep 30\n");
    chmodSync(script, 0o700);
    const intake = live(script, true);
    await intake.start(() => {});
    await intake.stop();
    const outcome = await Promise.race([intake.ended.then(() => "ended"), sleep(100, "quiet")]);
    assert.equal(outcome, "quiet");
  });
});

test("kernelDrops(): asks tcpdump with SIGUSR1 and reads its 'dropped by kernel' count", async () => {
  const script = write(
    [
      "#!/bin/sh",
      `trap 'echo "tcpdump: 9 packets captured, 9 packets received by filter, 3 packets dropped by kernel" >&2' USR1`,
      "echo 'tcpdump: listening on vs0' >&2",
      "i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done",
      "",
    ].join("\n"),
  );
  chmodSync(script, 0o700);
  const intake = createPcapLiveIntake({
    intf: "vs0",
    filter: "",
    snaplen: 1500,
    promisc: false,
    anyDirection: false,
    exitAtIntfDown: true,
    log: recorder(),
    tcpdump: script,
  });
  await intake.start(() => {});
  try {
    assert.equal(intake.kernelDrops(), 0, "nothing reported yet; the first call asks");
    const deadline = Date.now() + 10_000;
    while (intake.kernelDrops() !== 3 && Date.now() < deadline) await sleep(100);
    assert.equal(intake.kernelDrops(), 3);
  } finally {
    await intake.stop();
  }
});

describe("pcap file replay", () => {
  test("hands on every payload with its real addressing, in order, then ends with status 0", async () => {
    const log = recorder();
    const intake = createPcapFileIntake({
      path: write(pcapFile([1, 2, 3].map((i) => frame(i)))),
      log,
    });
    const got: Candidate[] = [];
    await intake.start((c) => void got.push(c));
    assert.equal(got.length, 0, "no packet before start() has returned");
    const end = await intake.ended;
    assert.equal(end.code, 0);
    assert.match(end.message, /3 packets, 3 payloads/);
    assert.deepEqual(
      got.map((c) => [c.srcIp, c.srcPort, c.dstIp, c.dstPort, c.proto, c.receivedAt]),
      [1, 2, 3].map((i) => [
        `198.18.1.${i}`,
        40000 + i,
        "198.18.0.1",
        62201,
        17,
        (1700000000 + i) * 1000,
      ]),
    );
    assert.equal(got[1]?.payload.toString().slice(0, 6), "SPA-2-");
    assert.deepEqual(intake.stats, { received: 3, dropped: 0 });
  });

  test("a handler's promise is awaited before the next packet", async () => {
    const intake = createPcapFileIntake({
      path: write(pcapFile([1, 2, 3].map((i) => frame(i)))),
      log: recorder(),
    });
    let busy = 0;
    let overlap = false;
    const work = async () => {
      overlap ||= busy++ > 0;
      await sleep(20);
      busy--;
    };
    // A handler that returns its promise (as the daemon's does while a packet's processing
    // waits) gets sequential processing in file mode.
    await intake.start(work);
    await intake.ended;
    assert.equal(overlap, false);
  });

  test("a file cut inside a record: the whole records count, the rest is warned about", async () => {
    const bytes = pcapFile([1, 2].map((i) => frame(i)));
    const log = recorder();
    const intake = createPcapFileIntake({ path: write(bytes.subarray(0, bytes.length - 50)), log });
    const got: Candidate[] = [];
    await intake.start((c) => void got.push(c));
    assert.equal((await intake.ended).code, 0);
    assert.equal(got.length, 1);
    assert.ok(
      log.lines.some((l) => /^warn: .*ends inside a record/.test(l)),
      log.lines.join("\n"),
    );
  });

  test("a corrupt record length ends the replay with status 1 after the good packets", async () => {
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(0x40000000, 8);
    const intake = createPcapFileIntake({
      path: write(Buffer.concat([pcapFile([frame(1)]), bad, Buffer.alloc(100)])),
      log: recorder(),
    });
    const got: Candidate[] = [];
    await intake.start((c) => void got.push(c));
    const end = await intake.ended;
    assert.deepEqual([end.code, end.level, got.length], [1, "error", 1]);
    assert.match(end.message, /corrupt.*\[FWK_ERR_PCAP_FORMAT\]/);
  });

  test("a throwing handler is logged and the replay goes on", async () => {
    const log = recorder();
    const intake = createPcapFileIntake({
      path: write(pcapFile([1, 2].map((i) => frame(i)))),
      log,
    });
    let calls = 0;
    await intake.start(() => {
      calls++;
      throw new Error("boom");
    });
    assert.equal((await intake.ended).code, 0);
    assert.equal(calls, 2);
    assert.equal(log.lines.filter((l) => /^error: .*boom/.test(l)).length, 2);
  });

  test("stop() in the middle: no further packets, and no end is reported", async () => {
    const intake = createPcapFileIntake({
      path: write(pcapFile(Array.from({ length: 50 }, (_, i) => frame(i + 1)))),
      log: recorder(),
    });
    let n = 0;
    await intake.start(() => {
      if (++n === 5) void intake.stop();
    });
    const outcome = await Promise.race([intake.ended.then(() => "ended"), sleep(200, "quiet")]);
    assert.equal(outcome, "quiet");
    assert.equal(n, 5);
  });

  test("oversize payloads are dropped like the UDP server drops them", async () => {
    const intake = createPcapFileIntake({
      path: write(pcapFile([frame(1, Buffer.alloc(1600, 65)), frame(2)])),
      log: recorder(),
    });
    const got: Candidate[] = [];
    await intake.start((c) => void got.push(c));
    await intake.ended;
    assert.deepEqual(intake.stats, { received: 1, dropped: 1 });
  });

  test("missing file, directory, pcapng, short file and garbage fail start()", async () => {
    const ng = Buffer.alloc(64);
    ng.writeUInt32BE(0x0a0d0d0a, 0);
    const cases: [string, string, RegExp][] = [
      [join(work, "absent.pcap"), "FWK_ERR_PCAP_FILE", /cannot be read \(ENOENT\)/],
      [work, "FWK_ERR_PCAP_FILE", /not a regular file/],
      [write(ng), "FWK_ERR_PCAP_FORMAT", /pcapng/],
      [write(Buffer.from([0xd4, 0xc3, 0xb2])), "FWK_ERR_PCAP_FORMAT", /shorter than a pcap header/],
      [write("not a capture at all, just some text"), "FWK_ERR_PCAP_FORMAT", /not a pcap stream/],
    ];
    for (const [path, code, re] of cases) {
      await rejects(
        createPcapFileIntake({ path, log: recorder() }).start(() => {}),
        code,
        re,
      );
    }
  });
});

describe("dummy TCP server", () => {
  test("accepts, holds the connection for holdMs, then closes it", async () => {
    const srv = createDummyTcpServer({ port: 0, host: "127.0.0.1", log: recorder(), holdMs: 150 });
    await srv.start();
    try {
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const s = connect(srv.port, "127.0.0.1", () => s.write("x".repeat(200)));
        s.on("error", reject);
        s.on("data", () => reject(new Error("the dummy server must not answer")));
        s.on("end", () => {
          s.end();
          resolve(Date.now() - started);
        });
      });
      // It held the connection (a timer never fires early); the close itself ended the wait.
      assert.ok(closedAfter >= 120, `closed after ${closedAfter} ms`);
    } finally {
      await srv.stop();
    }
  });

  test("a port in use is FWK_ERR_TCP_SERVER_BIND", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const addr = blocker.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    try {
      const srv = createDummyTcpServer({ port, host: "127.0.0.1", log: recorder() });
      await rejects(srv.start(), "FWK_ERR_TCP_SERVER_BIND", /EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});

describe("mode selection from fwknopd.conf", () => {
  const choose = (conf: string, cli: Record<string, string> = {}, forced = false) => {
    const log = recorder();
    const cfg = loadServerConfig({ configFile: write(conf), cli });
    return { ...createIntakeFromConfig(cfg, { log, udpServerForced: forced }), log };
  };

  test("ENABLE_UDP_SERVER Y, or -U: the UDP server and its start line", () => {
    for (const c of [
      choose("ENABLE_UDP_SERVER Y;\nUDPSERV_PORT 6000;\n"),
      choose("UDPSERV_PORT 6000;\n", {}, true),
    ]) {
      assert.equal(c.intake.name, "udp:6000");
      assert.equal(c.startLine, "Kicking off UDP server to listen on port 6000.");
    }
  });

  test("the TCP server is ignored, with a warning, in UDP server mode", () => {
    const c = choose("ENABLE_UDP_SERVER Y;\nENABLE_TCP_SERVER Y;\n");
    assert.equal(c.intake.name, "udp:62201");
    assert.ok(c.log.lines.some((l) => /^warn: ENABLE_TCP_SERVER/.test(l)));
  });

  test("default: live capture on PCAP_INTF; with ENABLE_TCP_SERVER the TCP server comes along", () => {
    const live = choose("PCAP_INTF vs0;\n");
    assert.equal(live.intake.name, "pcap:vs0");
    assert.equal(live.startLine, "Starting fwknopd main event loop.");
    assert.equal(choose("ENABLE_TCP_SERVER Y;\n").intake.name, "pcap:eth0+tcp");
  });

  test("live options: defaults, and --pcap-any-direction only from the command line", () => {
    const opts = (conf: string, cli: Record<string, string> = {}) => {
      const { log: _log, ...rest } = liveOptionsFromConfig(
        loadServerConfig({ configFile: write(conf), cli }),
        recorder(),
      );
      return rest;
    };
    assert.deepEqual(opts(""), {
      intf: "eth0",
      filter: "udp port 62201",
      snaplen: 1500,
      promisc: false,
      anyDirection: false,
      exitAtIntfDown: true,
    });
    assert.equal(opts("ENABLE_PCAP_ANY_DIRECTION Y;\n").anyDirection, false);
    assert.equal(opts("", { ENABLE_PCAP_ANY_DIRECTION: "Y" }).anyDirection, true);
    assert.deepEqual(
      opts(
        "PCAP_INTF vs1;\nPCAP_FILTER tcp port 80;\nMAX_SNIFF_BYTES 256;\nENABLE_PCAP_PROMISC Y;\nEXIT_AT_INTF_DOWN N;\n",
      ),
      {
        intf: "vs1",
        filter: "tcp port 80",
        snaplen: 256,
        promisc: true,
        anyDirection: false,
        exitAtIntfDown: false,
      },
    );
  });

  test("PCAP_FILE (or --pcap-file) selects file replay", () => {
    const path = write(pcapFile([]));
    assert.equal(choose(`PCAP_FILE ${path};\n`).intake.name, `pcap-file:${path}`);
    assert.equal(choose("", { PCAP_FILE: path }).intake.name, `pcap-file:${path}`);
  });
});
