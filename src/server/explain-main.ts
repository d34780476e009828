/**
 * `fwknopd --explain FILE` (ours; `-` = stdin) with the normal `-c`/`-a`: explains how each
 * packet of FILE would be judged. FILE holds SPA wire strings, one per line (optionally
 * `SOURCE_IP WIRE`; `#` comments and blank lines skipped), or is a pcap capture, whose packets
 * are judged at their capture time with their real addresses. The digest cache is read, never
 * written; the firewall is never touched (no backend is even created).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { AccessStanza } from "../config/access-stanza.js";
import type { ServerConfig } from "../config/server-config.js";
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { pipelineContext } from "./daemon.js";
import { fileSettings, grantStageSettings } from "./daemon-settings.js";
import { explainCandidate, formatExplanation } from "./explain.js";
import type { Candidate } from "./intake/intake.js";
import { decodeFrame, PcapStreamParser } from "./intake/pcap-reader.js";
import { openReadOnlyReplayCache } from "./replay/read-only-cache.js";

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]);

export async function runExplain(
  file: string,
  config: ServerConfig,
  stanzas: AccessStanza[],
  log: Logger,
  out: (text: string) => void,
): Promise<number> {
  let input: Buffer;
  try {
    input = readFileSync(file === "-" ? 0 : file);
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_EXPLAIN_INPUT",
      `--explain: cannot read '${file}': ${(e as Error).message}`,
    );
  }
  const candidates = isPcap(input) ? fromPcap(input, file) : fromLines(input, config);
  const { digestFile } = fileSettings(config);
  const replay = digestFile === undefined ? undefined : openReadOnlyReplayCache(digestFile, log);
  const { natDns } = grantStageSettings(config);
  let n = 0;
  for (const c of candidates) {
    n++;
    const at = Math.floor(c.receivedAt / 1000);
    // testMode off: the verdict says what the daemon would do; nothing here can act on it.
    const ctx = pipelineContext({ config, stanzas, replay, log, testMode: false }, () => at);
    const e = await explainCandidate(c, { ctx, natDns });
    const proto = c.proto === 6 ? "tcp" : c.proto === 1 ? "icmp" : "udp";
    out(
      formatExplanation(
        `packet ${n}: ${c.srcIp} -> ${c.dstIp} ${proto}/${c.dstPort}, ${c.payload.length} bytes, judged at ${new Date(c.receivedAt).toISOString()}`,
        e,
      ),
    );
  }
  if (n === 0) out("no packets to explain\n");
  await replay?.close();
  return 0;
}

function isPcap(b: Buffer): boolean {
  return (
    b.length >= 4 && (PCAP_MAGICS.has(b.readUInt32LE(0)) || PCAP_MAGICS.has(b.readUInt32BE(0)))
  );
}

function fromPcap(b: Buffer, file: string): Candidate[] {
  const parser = new PcapStreamParser();
  const records = parser.push(b);
  const linkType = parser.header?.linkType;
  if (parser.error !== undefined || linkType === undefined) {
    throw new FwknopError(
      "FWK_ERR_PCAP_FORMAT",
      `--explain: ${file}: ${parser.error ?? "truncated pcap header"}`,
    );
  }
  const out: Candidate[] = [];
  for (const r of records) {
    const p = decodeFrame(linkType, r.data);
    if ("ignored" in p || "malformed" in p) continue;
    out.push({ ...p, receivedAt: r.time });
  }
  return out;
}

function fromLines(b: Buffer, config: ServerConfig): Candidate[] {
  const port = config.int("UDPSERV_PORT");
  const now = Date.now();
  const out: Candidate[] = [];
  for (const raw of b.toString("latin1").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [first, second] = line.split(/\s+/, 2);
    const withIp = second !== undefined && first !== undefined && isIP(first) !== 0;
    const wire = withIp ? second : line;
    out.push({
      payload: Buffer.from(wire, "latin1"),
      srcIp: withIp ? first : "127.0.0.1",
      srcPort: 0,
      dstIp: "0.0.0.0",
      dstPort: port,
      proto: 17,
      receivedAt: now,
    });
  }
  return out;
}
