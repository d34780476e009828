/**
 * The fan-out message: one grant as every gateway of the cluster applies it, signed with the
 * cluster key. Pure: encoding, signing, verification and validation, no I/O.
 *
 * Encoding: a JSON array with the fields in a fixed order (below). The encoder is the only
 * writer, so the text is canonical; the MAC covers a domain tag, the cluster name and exactly the
 * bytes stored in Redis, and the receiver verifies those bytes before it parses anything. A
 * message signed for another cluster name, or written by someone with Redis access but without
 * the key, fails the check.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { ok, type Result, reject } from "../errors.js";
import type { Proto } from "../firewall/rule.js";
import type { GrantRequest } from "../firewall/rules.js";

/** One grant, as decided on its origin gateway. */
export interface ClusterGrant {
  /** Gateway id of the origin (a gateway skips its own messages). */
  origin: string;
  /** Effective client IP (the rules' source). */
  clientIp: string;
  /** Destination of the SPA packet (used where ENABLE_DESTINATION_RULE is on). */
  packetDstIp: string;
  ports: { proto: Proto; port: number }[];
  messageType: GrantRequest["messageType"];
  /** NAT target, resolved to an address by the origin. */
  nat?: { ip: string; port: number };
  stanza: GrantRequest["stanza"];
  /** Seconds the access lasts. */
  timeout: number;
  /** Absolute expiry, Unix seconds: every gateway closes the access at this time. */
  expiresAt: number;
}

export interface SignedGrant {
  /** The canonical text (stored as is). */
  body: string;
  /** base64 HMAC-SHA256 of the tagged body. */
  sig: string;
}

const VERSION = 1;
const DOMAIN = "fwknop-ts cluster grant v1";

type Wire = [
  version: number,
  origin: string,
  clientIp: string,
  packetDstIp: string,
  ports: string,
  messageType: number,
  natIp: string,
  natPort: number,
  forceSnat: string,
  forceNatIp: string,
  forceNatPort: number,
  flags: string,
  timeout: number,
  expiresAt: number,
];

export function encodeGrant(g: ClusterGrant): string {
  const s = g.stanza;
  const flags = `${s.forceMasquerade ? "M" : ""}${s.disableDnat ? "D" : ""}${s.forwardAll ? "A" : ""}`;
  const wire: Wire = [
    VERSION,
    g.origin,
    g.clientIp,
    g.packetDstIp,
    g.ports.map((p) => `${p.proto}/${p.port}`).join(","),
    g.messageType,
    g.nat?.ip ?? "",
    g.nat?.port ?? 0,
    s.forceSnat ?? "",
    s.forceNat?.ip ?? "",
    s.forceNat?.port ?? 0,
    flags,
    g.timeout,
    g.expiresAt,
  ];
  return JSON.stringify(wire);
}

function mac(key: Buffer, cluster: string, body: string): Buffer {
  return createHmac("sha256", key).update(`${DOMAIN}\n${cluster}\n${body}`).digest();
}

export function signGrant(g: ClusterGrant, key: Buffer, cluster: string): SignedGrant {
  const body = encodeGrant(g);
  return { body, sig: mac(key, cluster, body).toString("base64") };
}

/**
 * The grant a stored message carries, if its signature is right (FWK_ERR_CLUSTER_FORGED
 * otherwise) and its fields make a valid grant (FWK_ERR_CLUSTER_MESSAGE otherwise).
 */
export function openGrant(
  msg: { body: unknown; sig: unknown },
  key: Buffer,
  cluster: string,
): Result<ClusterGrant> {
  if (typeof msg.body !== "string" || typeof msg.sig !== "string")
    return reject("FWK_ERR_CLUSTER_FORGED", "fan-out message without body or signature");
  const given = Buffer.from(msg.sig, "base64");
  const want = mac(key, cluster, msg.body);
  if (given.length !== want.length || !timingSafeEqual(given, want))
    return reject(
      "FWK_ERR_CLUSTER_FORGED",
      "fan-out message signature does not match the cluster key",
    );
  return parseGrant(msg.body);
}

function invalid(why: string): Result<never> {
  return reject("FWK_ERR_CLUSTER_MESSAGE", `signed fan-out message is not a valid grant: ${why}`);
}

function parseGrant(body: string): Result<ClusterGrant> {
  let w: unknown;
  try {
    w = JSON.parse(body);
  } catch {
    return invalid("not JSON");
  }
  if (!Array.isArray(w) || w.length !== 14 || w[0] !== VERSION) return invalid("unknown layout");
  const [
    ,
    origin,
    clientIp,
    dst,
    portText,
    type,
    natIp,
    natPort,
    snat,
    fnIp,
    fnPort,
    flags,
    timeout,
    exp,
  ] = w as unknown[];
  const str = (v: unknown): v is string => typeof v === "string";
  const int = (v: unknown, lo: number, hi: number): v is number =>
    typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
  if (
    !str(origin) ||
    !str(clientIp) ||
    !isIP(clientIp) ||
    !str(dst) ||
    !isIP(dst.split("/")[0] ?? "")
  )
    return invalid("bad origin or address");
  if (!str(portText)) return invalid("bad ports");
  const ports: ClusterGrant["ports"] = [];
  for (const p of portText.split(",")) {
    const m = /^(tcp|udp)\/(\d{1,5})$/.exec(p);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) return invalid(`bad port '${p}'`);
    ports.push({ proto: m[1] as Proto, port });
  }
  if (!int(type, 0, 6)) return invalid("bad message type");
  if (!str(natIp) || !int(natPort, 0, 65535) || (natIp !== "" && !isIP(natIp)))
    return invalid("bad NAT target");
  if (!str(snat) || !str(fnIp) || !int(fnPort, 0, 65535) || !str(flags) || !/^M?D?A?$/.test(flags))
    return invalid("bad stanza options");
  if (!int(timeout, 1, 2 ** 31) || !int(exp, 0, 2 ** 42)) return invalid("bad timeout or expiry");
  return ok({
    origin,
    clientIp,
    packetDstIp: dst,
    ports,
    messageType: type as ClusterGrant["messageType"],
    ...(natIp !== "" ? { nat: { ip: natIp, port: natPort } } : {}),
    stanza: {
      ...(snat !== "" ? { forceSnat: snat } : {}),
      ...(fnIp !== "" ? { forceNat: { ip: fnIp, port: fnPort } } : {}),
      forceMasquerade: flags.includes("M"),
      disableDnat: flags.includes("D"),
      forwardAll: flags.includes("A"),
    },
    timeout,
    expiresAt: exp,
  });
}

/** The rule-builder request for a received grant (its rules expire at g.expiresAt). */
export function grantRequest(g: ClusterGrant): GrantRequest {
  return {
    clientIp: g.clientIp,
    packetDstIp: g.packetDstIp,
    ports: g.ports,
    messageType: g.messageType,
    ...(g.nat ? { nat: g.nat } : {}),
    timeout: g.timeout,
    stanza: g.stanza,
  };
}
