/**
 * What an authenticated SPA message may do under one access stanza (spec §8 steps 13–23).
 * A pure function of (decoded message, stanza, packet facts, settings, now): the daemon, --test
 * mode and rejection explanations all use it.
 */
import type { AccessStanza } from "../config/access-stanza.js";
import { type PortSpec, parsePortList } from "../config/port-list.js";
import { type ErrorCode, reject } from "../errors.js";
import { canonicalAddress, canonicalIpv4 } from "../protocol/address-text.js";
import {
  hasNatField,
  isForwardNatType,
  isLocalNatType,
  MessageType,
  type MessageTypeId,
} from "../protocol/constants.js";
import { isAllowIpv6, isValidIpv4Text } from "../protocol/fields.js";
import type { DecodedSpa } from "../protocol/spa.js";

export interface PolicySettings {
  /** ENABLE_SPA_PACKET_AGING */
  packetAging: boolean;
  /** MAX_SPA_PACKET_AGE, seconds */
  maxPacketAge: number;
  /** ENABLE_IPT_FORWARDING (or the firewalld/nftables equivalent) */
  natForwarding: boolean;
  /** ENABLE_IPT_LOCAL_NAT */
  localNat: boolean;
  /** -t/--test: decide, but never touch the firewall or run commands */
  testMode: boolean;
}

export interface PacketFacts {
  srcIp: string;
  dstIp: string;
  /** X-Forwarded-For address of an HTTP SPA request, when enabled. */
  forwardedFor?: string;
}

interface GrantBase {
  stanza: AccessStanza;
  /** The address access is opened for (allow-IP, or the packet source for 0.0.0.0). */
  clientIp: string;
  /** Seconds the access lasts. */
  timeout: number;
  messageType: MessageTypeId;
  username: string;
}

export interface AccessGrant extends GrantBase {
  kind: "access";
  ports: PortSpec[];
  /** NAT target text `host,port` from the message or FORCE_NAT; the host may need DNS. */
  nat?: { host: string; port: number };
}

export interface CommandGrant extends GrantBase {
  kind: "command";
  command: string;
}

export interface CycleGrant extends GrantBase {
  kind: "cmd-cycle";
  ports: PortSpec[];
}

export type Grant = AccessGrant | CommandGrant | CycleGrant;

export interface PolicyRejection {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
  /** Upstream stops trying further stanzas for some failures (an invalid allow-IP). */
  readonly final: boolean;
}

export type PolicyResult = { ok: true; value: Grant } | PolicyRejection;

function deny(code: ErrorCode, detail: string, final = false): PolicyRejection {
  return { ...reject(code, detail), final };
}

export function decidePolicy(
  msg: DecodedSpa,
  stanza: AccessStanza,
  packet: PacketFacts,
  settings: PolicySettings,
  now: number,
): PolicyResult {
  const timeout =
    msg.clientTimeout !== undefined && msg.clientTimeout > 0
      ? Math.min(msg.clientTimeout, stanza.maxFwTimeout)
      : stanza.fwAccessTimeout;

  if (settings.packetAging) {
    const age = now - msg.timestamp;
    if (Math.abs(age) > settings.maxPacketAge) {
      return deny("SPA_MSG_TOO_OLD", `SPA data time difference is too great (${age} seconds)`);
    }
  }

  const comma = msg.message.indexOf(",");
  if (comma < 0) return deny("SPA_MSG_BAD_DATA", "SPA message has no comma after the allow-IP");
  const allowIp = msg.message.slice(0, comma);
  const rest = msg.message.slice(comma + 1);
  const ipv4 = allowIp.length >= 6 && allowIp.length <= 16 && isValidIpv4Text(allowIp);
  if (!ipv4 && !isAllowIpv6(allowIp)) {
    return deny(
      "FWK_ERR_SPA_INVALID_ALLOW_IP",
      `Invalid source IP in SPA message, ignoring SPA packet: '${allowIp}'`,
      true,
    );
  }

  // One canonical text from here on: rules, ledger keys and expiry all compare it with what the
  // kernel lists (192.000.002.002 is 192.0.2.2 to libfko and netfilter alike).
  let clientIp = canonicalAddress(allowIp) ?? allowIp;
  if (clientIp === "0.0.0.0") {
    if (stanza.requireSourceAddress) {
      return deny("FWK_ERR_SPA_SOURCE_REQUIRED", "Got 0.0.0.0 when valid source IP was required.");
    }
    const source = packet.forwardedFor ?? packet.srcIp;
    clientIp = canonicalAddress(source) ?? source;
  }

  if (stanza.requireUsername !== undefined && msg.username !== stanza.requireUsername) {
    return deny(
      "FWK_ERR_SPA_USERNAME_MISMATCH",
      `Username in SPA data (${msg.username}) does not match required username: ${stanza.requireUsername}`,
    );
  }

  if (isForwardNatType(msg.messageType) && !settings.natForwarding) {
    return deny(
      "FWK_ERR_SPA_NAT_DISABLED",
      `SPA packet from ${packet.srcIp} requested NAT access, but is not enabled/supported`,
    );
  }
  if (isLocalNatType(msg.messageType) && !settings.localNat) {
    return deny(
      "FWK_ERR_SPA_NAT_DISABLED",
      "SPA packet requested local NAT access, but is not enabled/supported",
    );
  }

  const base = { stanza, clientIp, timeout, messageType: msg.messageType, username: msg.username };

  if (stanza.cmdCycleOpen !== undefined) {
    const ports = parsePortList(rest);
    if (!ports.ok)
      return deny("SPA_MSG_BAD_DATA", `command cycle needs a proto/port list, got '${rest}'`);
    // A cycle opens access by other means; OPEN_PORTS/RESTRICT_PORTS bind it like a rule
    // (2.6.10 skips this check for cycles; we do not).
    if (!portsAllowed(ports.value, stanza)) {
      return deny(
        "FWK_ERR_SPA_PORTS_DENIED",
        "One or more requested protocol/ports was denied per access.conf.",
      );
    }
    if (settings.testMode)
      return deny("FWK_ERR_SPA_TEST_MODE", "--test mode enabled, skipping command cycle.");
    return { ok: true, value: { ...base, kind: "cmd-cycle", ports: ports.value } };
  }

  if (msg.messageType === MessageType.COMMAND) {
    if (!stanza.enableCmdExec) {
      return deny(
        "FWK_ERR_SPA_CMD_NOT_ALLOWED",
        "SPA Command messages are not allowed in the current configuration.",
      );
    }
    if (settings.testMode)
      return deny("FWK_ERR_SPA_TEST_MODE", "--test mode enabled, skipping command execution.");
    return { ok: true, value: { ...base, kind: "command", command: rest } };
  }

  const requested = parsePortList(rest);
  if (!requested.ok)
    return deny("SPA_MSG_BAD_DATA", `Invalid access spec in SPA message: '${rest}'`);
  const ports = requested.value;
  if (!portsAllowed(ports, stanza)) {
    return deny(
      "FWK_ERR_SPA_PORTS_DENIED",
      "One or more requested protocol/ports was denied per access.conf.",
    );
  }

  // NAT targets are IPv4 (the message format and FORCE_NAT say so) and netfilter cannot
  // translate between families, so an IPv6 client (a 0.0.0.0 knock over IPv6) gets no NAT.
  const wantsNat = hasNatField(msg.messageType) || stanza.forceNat !== undefined;
  if (wantsNat && clientIp.includes(":")) {
    return deny(
      "FWK_ERR_SPA_NAT_DISABLED",
      `SPA packet from IPv6 address ${clientIp} requested NAT access, which is IPv4-only`,
    );
  }

  if (settings.testMode)
    return deny("FWK_ERR_SPA_TEST_MODE", "--test mode enabled, skipping firewall manipulation.");

  const nat = natTarget(msg, stanza);
  if (nat === "invalid")
    return deny("SPA_MSG_BAD_DATA", `Invalid NAT access string in SPA message: '${msg.natAccess}'`);
  return { ok: true, value: { ...base, kind: "access", ports, ...(nat ? { nat } : {}) } };
}

function portsAllowed(ports: readonly PortSpec[], stanza: AccessStanza): boolean {
  const listed = (list: readonly PortSpec[], p: PortSpec) =>
    list.some((l) => l.proto === p.proto && l.port === p.port);
  const restrict = stanza.restrictPorts;
  if (restrict && ports.some((p) => listed(restrict, p))) return false;
  const open = stanza.openPorts;
  if (open && !ports.every((p) => listed(open, p))) return false;
  return true;
}

function natTarget(
  msg: DecodedSpa,
  stanza: AccessStanza,
): { host: string; port: number } | "invalid" | undefined {
  if (stanza.forceNat) return { host: stanza.forceNat.ip, port: stanza.forceNat.port };
  const wantsNat = hasNatField(msg.messageType);
  if (!wantsNat || msg.natAccess === undefined) return undefined;
  const [host, portText, extra] = msg.natAccess.split(",");
  const port = Number(portText);
  if (!host || extra !== undefined || !/^\d{1,5}$/.test(portText ?? "") || port < 1 || port > 65535)
    return "invalid";
  // An IPv4 target in libfko's inet_aton reading; anything else is a name for ENABLE_NAT_DNS.
  return { host: canonicalIpv4(host) ?? host, port };
}
