/**
 * Which intake fwknopd.conf asks for (spec §7.2): the UDP server (`-U`, ENABLE_UDP_SERVER Y),
 * otherwise pcap — a capture file when PCAP_FILE/--pcap-file is set, else live sniffing on
 * PCAP_INTF, with the dummy TCP server alongside when ENABLE_TCP_SERVER is Y.
 */
import type { ServerConfig } from "../../config/server-config.js";
import type { Logger } from "../../log/logger.js";
import type { Intake } from "./intake.js";
import {
  createPcapFileIntake,
  createPcapLiveIntake,
  type IntakeEnd,
  type PcapLiveOptions,
} from "./pcap.js";
import { createDummyTcpServer, type DummyTcpServer } from "./tcp-server.js";
import { createUdpIntake } from "./udp.js";

export interface IntakeChoice {
  intake: Intake;
  /** Upstream's log line for the mode, to log once the intake has started. */
  startLine: string;
  /** Upstream's lines naming the capture source and filter, logged before it starts. */
  setupLines: string[];
  /** Settles when the intake ends by itself (pcap file consumed, capture lost); the daemon exits. */
  ended: Promise<IntakeEnd>;
}

export function createIntakeFromConfig(
  cfg: ServerConfig,
  opts: { log: Logger; udpServerForced: boolean },
): IntakeChoice {
  const { log } = opts;
  if (opts.udpServerForced || cfg.bool("ENABLE_UDP_SERVER")) {
    if (cfg.bool("ENABLE_TCP_SERVER")) {
      log.warn("ENABLE_TCP_SERVER only works with pcap capture; ignored in UDP server mode.");
    }
    const port = cfg.int("UDPSERV_PORT");
    return {
      // Dual-stack: IPv4 senders arrive as plain IPv4 (mapped addresses are unwrapped), so
      // SOURCE lists and rules see what they always saw; IPv6 senders match only stanzas whose
      // SOURCE is ANY or lists IPv6 networks.
      intake: createUdpIntake({ port, host: "::", log }),
      startLine: `Kicking off UDP server to listen on port ${port}.`,
      setupLines: [],
      // The UDP server only ends when the daemon stops it.
      ended: new Promise<IntakeEnd>(() => {}),
    };
  }
  const startLine = "Starting fwknopd main event loop.";
  const filterLine = `PCAP filter is: '${cfg.get("PCAP_FILTER") ?? ""}'`;
  const file = cfg.get("PCAP_FILE");
  if (file !== undefined && file !== "") {
    const intake = createPcapFileIntake({ path: file, log });
    const setupLines = [`Reading pcap file: ${file}`, filterLine];
    return { intake, startLine, setupLines, ended: intake.ended };
  }
  const pcap = createPcapLiveIntake(liveOptionsFromConfig(cfg, log));
  const setupLines = [`Sniffing interface: ${cfg.get("PCAP_INTF") ?? ""}`, filterLine];
  if (!cfg.bool("ENABLE_TCP_SERVER")) {
    return { intake: pcap, startLine, setupLines, ended: pcap.ended };
  }
  // Upstream keeps the port in 16 bits although the range check allows up to 131071.
  const port = cfg.int("TCPSERV_PORT") & 0xffff;
  if (port !== cfg.int("TCPSERV_PORT")) log.warn(`TCPSERV_PORT is above 65535; using ${port}.`);
  const tcp = createDummyTcpServer({ port, log });
  return { intake: withTcpServer(pcap, tcp), startLine, setupLines, ended: pcap.ended };
}

export function liveOptionsFromConfig(cfg: ServerConfig, log: Logger): PcapLiveOptions {
  return {
    intf: cfg.get("PCAP_INTF"),
    filter: cfg.get("PCAP_FILTER"),
    snaplen: cfg.int("MAX_SNIFF_BYTES"),
    promisc: cfg.bool("ENABLE_PCAP_PROMISC"),
    // Upstream reads only the command-line flag, never the config variable of the same name.
    anyDirection:
      cfg.where("ENABLE_PCAP_ANY_DIRECTION") === "command line" &&
      cfg.bool("ENABLE_PCAP_ANY_DIRECTION"),
    exitAtIntfDown: cfg.bool("EXIT_AT_INTF_DOWN"),
    log,
  };
}

/** The pcap intake with the dummy TCP server started before it and stopped after it. */
function withTcpServer(pcap: Intake, tcp: DummyTcpServer): Intake {
  return {
    name: `${pcap.name}+tcp`,
    ...(pcap.stats ? { stats: pcap.stats } : {}),
    kernelDrops: () => pcap.kernelDrops?.(),
    async start(onCandidate) {
      await tcp.start();
      try {
        await pcap.start(onCandidate);
      } catch (e) {
        await tcp.stop();
        throw e;
      }
    },
    async stop() {
      await pcap.stop();
      await tcp.stop();
    },
  };
}
