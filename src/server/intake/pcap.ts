/**
 * pcap intakes (spec §7.2, §12.5): live sniffing through a `tcpdump -w -` child, and replay of a
 * capture file (`--pcap-file`). Sniffing sees packets on the interface before netfilter, so the
 * SPA port needs no ACCEPT rule; tcpdump does the BPF filtering in the kernel as libpcap would.
 *
 * Both modes can end on their own (tcpdump lost its interface, the file is consumed), which the
 * plain Intake seam cannot express: they also expose `ended`, which the daemon turns into an exit.
 */
import { existsSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { FwknopError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import { type LongLivedChild, startChild } from "../../sys/child.js";
import type { CandidateHandler, Intake } from "./intake.js";
import { decodeFrame, type PcapRecord, PcapStreamParser } from "./pcap-reader.js";
import { MAX_DATAGRAM } from "./udp.js";

/** Why an intake stopped by itself: the daemon logs `message` at `level` and exits with `code`. */
export interface IntakeEnd {
  code: number;
  level: "info" | "error";
  message: string;
}

export interface EndingIntake extends Intake {
  readonly stats: { received: number; dropped: number };
  /** Settles when input ends without stop() being called; never settles otherwise. */
  readonly ended: Promise<IntakeEnd>;
}

/**
 * Turns records into candidates; shared by both modes. Returns the handler's promise when it
 * gives one (its rejection already logged), so file mode can wait for each packet.
 */
function recordHandler(
  stats: { received: number; dropped: number },
  linkType: number,
  log: Logger,
  onCandidate: CandidateHandler,
): (r: PcapRecord) => unknown {
  return (r) => {
    const p = decodeFrame(linkType, r.data);
    if ("ignored" in p) return undefined;
    if ("malformed" in p || p.payload.length > MAX_DATAGRAM) {
      stats.dropped++;
      return undefined;
    }
    stats.received++;
    // A failing handler is a bug, but one hostile packet must not take the daemon down.
    const failed = (e: unknown) =>
      log.error(`Error handling a packet from ${p.srcIp}: ${(e as Error).message}`);
    try {
      const result: unknown = onCandidate({ ...p, receivedAt: r.time });
      return result instanceof Promise ? result.catch(failed) : undefined;
    } catch (e) {
      failed(e);
      return undefined;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Live capture

export interface PcapLiveOptions {
  intf: string;
  /** BPF text; empty = every packet. */
  filter: string;
  snaplen: number;
  promisc: boolean;
  /** --pcap-any-direction: also outbound packets (default: inbound only, like upstream). */
  anyDirection: boolean;
  /** EXIT_AT_INTF_DOWN: end the intake when capture is lost instead of restarting tcpdump. */
  exitAtIntfDown: boolean;
  log: Logger;
  /** tcpdump executable (default: /usr/bin/tcpdump or /usr/sbin/tcpdump, else from PATH). */
  tcpdump?: string;
  /** Pause before restarting a lost capture when exitAtIntfDown is off (default 1000 ms). */
  restartDelayMs?: number;
}

/** Upstream gives up after this many consecutive capture errors. */
const MAX_RESTARTS = 100;
const READY_TIMEOUT_MS = 10_000;
const KILL_GRACE_MS = 3000;

export function tcpdumpArgv(o: PcapLiveOptions): string[] {
  return [
    o.tcpdump ?? defaultTcpdump(),
    "-i",
    o.intf,
    // -U flushes each packet to the pipe; immediate mode stops libpcap from batching packets
    // for up to a second, which would delay a knock the client follows with a connection.
    "-U",
    "--immediate-mode",
    "-w",
    "-",
    "-s",
    String(o.snaplen),
    ...(o.promisc ? [] : ["-p"]),
    ...(o.anyDirection ? [] : ["-Q", "in"]),
    ...(o.filter.trim() === "" ? [] : ["--", o.filter]),
  ];
}

function defaultTcpdump(): string {
  return ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].find((p) => existsSync(p)) ?? "tcpdump";
}

export function createPcapLiveIntake(o: PcapLiveOptions): EndingIntake & {
  kernelDrops(): number | undefined;
} {
  const stats = { received: 0, dropped: 0 };
  // "N packets dropped by kernel", which tcpdump prints on SIGUSR1 (and at exit): the metric
  // lags one request behind; earlier tcpdump runs (capture restarts) are added on.
  const drops = { before: 0, current: undefined as number | undefined, askedAt: 0 };
  let onCandidate: CandidateHandler | undefined;
  let child: LongLivedChild | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let endWith: (e: IntakeEnd) => void = () => {};
  const ended = new Promise<IntakeEnd>((resolve) => {
    endWith = resolve;
  });
  const killOnExit = () => child?.kill("SIGKILL");

  /** 2.6.10's libpcap wording for the same failure, which operators grep for. */
  const libpcapPhrase = (why: string) =>
    /filter expression|syntax error|parse filter/i.test(why)
      ? "Error compiling pcap filter"
      : "pcap_open_live() error";

  /** Spawns tcpdump; resolves once it reports that it is capturing. */
  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const argv = tcpdumpArgv(o);
      const c = startChild(argv, { pipes: { stdout: true, stderr: true } });
      child = c;
      let stderr = "";
      let ready = false;
      const parser = new PcapStreamParser();
      let toCandidate: ((r: PcapRecord) => unknown) | undefined;
      const timer = setTimeout(() => {
        c.kill("SIGKILL");
        fail(`tcpdump did not start capturing within ${READY_TIMEOUT_MS} ms`);
      }, READY_TIMEOUT_MS);
      const fail = (why: string, cause?: Error) => {
        clearTimeout(timer);
        const missing = (cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
        const msg = missing
          ? `Cannot capture on ${o.intf}: ${argv[0]} was not found (install tcpdump, or use the UDP server: ENABLE_UDP_SERVER Y)`
          : `Cannot capture on ${o.intf}: ${libpcapPhrase(why)}: ${why}`;
        reject(new FwknopError("FWK_ERR_PCAP_TCPDUMP", msg, { cause }));
      };
      c.stderr?.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4096);
        const counts = [...d.toString().matchAll(/(\d+) packets? dropped by kernel/g)].at(-1);
        if (counts && child === c) drops.current = Number(counts[1]);
        if (!ready && /listening on /.test(stderr)) {
          ready = true;
          clearTimeout(timer);
          o.log.info(`Capturing on ${o.intf} with filter '${o.filter}' (tcpdump pid ${c.pid}).`);
          resolve();
        }
      });
      c.stdout?.on("data", (d: Buffer) => {
        const handle = onCandidate;
        if (child !== c || !handle) return;
        const records = parser.push(d);
        if (parser.header && !toCandidate) {
          toCandidate = recordHandler(stats, parser.header.linkType, o.log, handle);
        }
        for (const r of records) void toCandidate?.(r);
        if (parser.error !== undefined) {
          stderr += `\nunreadable output from tcpdump: ${parser.error}`;
          c.kill("SIGKILL");
        }
      });
      void c.exited.then(({ code, signal, error }) => {
        clearTimeout(timer);
        drops.before += drops.current ?? 0;
        drops.current = undefined;
        if (error) return fail(error.message, error);
        const last = lastLine(stderr) || `exit status ${code ?? signal}`;
        if (!ready) fail(last);
        else if (child === c && !stopping) lost(last);
      });
    });

  /** tcpdump exited while capturing (interface removed, killed, bad output). */
  const lost = (why: string) => {
    child = undefined;
    const msg = `Packet capture on ${o.intf} ended: ${why}`;
    if (o.exitAtIntfDown) {
      endWith({ code: 1, level: "error", message: `${msg} [FWK_ERR_PCAP_CAPTURE_LOST]` });
      return;
    }
    o.log.error(`${msg}; restarting capture (EXIT_AT_INTF_DOWN is N).`);
    retry(0);
  };

  const retry = (failures: number) => {
    restartTimer = setTimeout(() => {
      if (stopping) return;
      launch().catch((e: unknown) => {
        if (stopping) return;
        if (failures + 1 >= MAX_RESTARTS) {
          endWith({
            code: 1,
            level: "error",
            message: `Giving up after ${MAX_RESTARTS} failed capture restarts: ${(e as Error).message} [FWK_ERR_PCAP_CAPTURE_LOST]`,
          });
          return;
        }
        retry(failures + 1);
      });
    }, o.restartDelayMs ?? 1000);
  };

  return {
    name: `pcap:${o.intf}`,
    stats,
    ended,
    kernelDrops() {
      const c = child;
      if (c?.running && Date.now() - drops.askedAt >= 1000) {
        drops.askedAt = Date.now();
        c.kill("SIGUSR1");
      }
      return drops.before + (drops.current ?? 0);
    },
    async start(handler) {
      if (onCandidate) throw new FwknopError("FWK_ERR_INTERNAL", "pcap intake already started");
      onCandidate = handler;
      process.once("exit", killOnExit);
      try {
        await launch();
      } catch (e) {
        process.off("exit", killOnExit);
        onCandidate = undefined;
        throw e;
      }
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      process.off("exit", killOnExit);
      const c = child;
      child = undefined;
      if (!c?.running) return;
      await c.stop({ ask: "SIGTERM", graceMs: KILL_GRACE_MS });
    },
  };
}

/** tcpdump's last complaint, without its closing packet-count summary. */
function lastLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^(tcpdump: )?\d+ packets? (captured|received|dropped)/.test(l));
  return lines.at(-1) ?? "";
}

// ---------------------------------------------------------------------------------------------
// Capture file

export interface PcapFileOptions {
  path: string;
  log: Logger;
}

const FILE_CHUNK = 64 * 1024;

export function createPcapFileIntake(o: PcapFileOptions): EndingIntake {
  const stats = { received: 0, dropped: 0 };
  let stopped = false;
  let started = false;
  let endWith: (e: IntakeEnd) => void = () => {};
  const ended = new Promise<IntakeEnd>((resolve) => {
    endWith = resolve;
  });

  /**
   * Packets go through one at a time, like upstream: when the handler returns a promise it is
   * awaited; otherwise a turn of the event loop lets the packet's synchronous work and
   * microtasks finish before the next, so the end of the file is not reported too early.
   */
  const consume = async (parser: PcapStreamParser, onCandidate: CandidateHandler) => {
    const header = parser.header;
    if (!header) return;
    const toCandidate = recordHandler(stats, header.linkType, o.log, onCandidate);
    const fh = await open(o.path, "r");
    let packets = 0;
    try {
      const buf = Buffer.alloc(FILE_CHUNK);
      let pos = 24;
      while (!stopped && parser.error === undefined) {
        const { bytesRead } = await fh.read(buf, 0, FILE_CHUNK, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        for (const r of parser.push(Buffer.from(buf.subarray(0, bytesRead)))) {
          if (stopped) break;
          packets++;
          const result = toCandidate(r);
          if (result instanceof Promise) await result;
          else await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      await fh.close();
    }
    if (stopped) return;
    if (parser.error !== undefined) {
      endWith({
        code: 1,
        level: "error",
        message: `pcap file ${o.path} is corrupt after ${packets} packets: ${parser.error} [FWK_ERR_PCAP_FORMAT]`,
      });
      return;
    }
    if (parser.pendingBytes > 0) {
      o.log.warn(`pcap file ${o.path} ends inside a record; ${parser.pendingBytes} bytes ignored.`);
    }
    endWith({
      code: 0,
      level: "info",
      message: `Finished reading pcap file ${o.path} (${packets} packets, ${stats.received} payloads). Exiting.`,
    });
  };

  return {
    name: `pcap-file:${o.path}`,
    stats,
    ended,
    async start(onCandidate) {
      if (started) throw new FwknopError("FWK_ERR_INTERNAL", "pcap file intake already started");
      started = true;
      const parser = await openHeader(o.path);
      // After start() resolves, so the daemon's start-up lines come before any verdict.
      setImmediate(() => {
        consume(parser, onCandidate).catch((e: unknown) =>
          endWith({
            code: 1,
            level: "error",
            message: `Cannot read pcap file ${o.path}: ${(e as Error).message} [FWK_ERR_PCAP_FILE]`,
          }),
        );
      });
    },
    async stop() {
      stopped = true;
    },
  };
}

/** Checks the file and its global header up front, so a bad file fails start-up. */
async function openHeader(path: string): Promise<PcapStreamParser> {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new FwknopError("FWK_ERR_PCAP_FILE", `pcap file '${path}' cannot be read (${code})`);
  }
  if (!isFile) {
    throw new FwknopError("FWK_ERR_PCAP_FILE", `pcap file '${path}' is not a regular file`);
  }
  const fh = await open(path, "r").catch((e: NodeJS.ErrnoException) => {
    throw new FwknopError("FWK_ERR_PCAP_FILE", `pcap file '${path}' cannot be read (${e.code})`);
  });
  const head = Buffer.alloc(24);
  const { bytesRead } = await fh.read(head, 0, 24, 0).finally(() => fh.close());
  const parser = new PcapStreamParser();
  parser.push(head.subarray(0, bytesRead));
  if (parser.error !== undefined || !parser.header) {
    const why = parser.error ?? `only ${bytesRead} bytes, shorter than a pcap header`;
    throw new FwknopError("FWK_ERR_PCAP_FORMAT", `pcap file '${path}': ${why}`);
  }
  return parser;
}
