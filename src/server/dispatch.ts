/**
 * The last stage of the packet path: a recorded, final grant goes to its owner — access to the
 * grant ledger (which builds and commits the rules), an SPA command to the command runner, a
 * command cycle to CommandCycles. Nothing here decides or counts; the decision is final.
 */
import type { ClusterPort } from "../cluster/cluster.js";
import type { GrantRequest } from "../firewall/rules.js";
import { escapeLogText } from "../log/escape.js";
import { logEvent } from "../log/event.js";
import type { Logger } from "../log/logger.js";
import { type CommandContext, type CommandCycles, runSpaCommand } from "./commands.js";
import { formatPorts, publishGrantCommitted, publishGrantFailed } from "./grant-events.js";
import type { GrantLedger } from "./grants.js";
import type { Candidate } from "./intake/intake.js";
import type { Decision } from "./pipeline.js";
import type { AccessGrant } from "./policy.js";

export type GrantedDecision = Extract<Decision, { ok: true }>;

export interface DispatchTargets {
  log: Logger;
  /** Absent when the firewall is not managed (every stanza a command cycle). */
  ledger: GrantLedger | undefined;
  cycles: CommandCycles;
  commands: CommandContext;
  /** Grants decided here are published to the other gateways (CLUSTER_GRANTS). */
  cluster?: ClusterPort | undefined;
}

export async function dispatchGrant(
  c: Candidate,
  decision: GrantedDecision,
  to: DispatchTargets,
): Promise<void> {
  const { grant, message } = decision;
  // Logged once: for an access grant, when the firewall answers (see openAccess).
  let logged = false;
  const accepted = () => {
    if (logged) return;
    logged = true;
    logEvent(to.log, {
      level: "info",
      event: "spa.accepted",
      message: `(stanza #${grant.stanza.index}) SPA Packet from IP: ${c.srcIp} received with access source match; message: '${escapeLogText(message.message)}'`,
      srcIp: c.srcIp,
      stanza: grant.stanza.index,
      messageType: grant.messageType,
      ...(grant.kind === "command" ? {} : { ports: formatPorts(grant.ports) }),
    });
  };
  switch (grant.kind) {
    case "command":
      accepted();
      await runSpaCommand(grant, to.commands);
      return;
    case "cmd-cycle":
      accepted();
      await to.cycles.open(grant, {
        packetSrcIp: c.srcIp,
        packetDstIp: c.dstIp,
        timestamp: message.timestamp,
        clientTimeout: message.clientTimeout,
      });
      return;
    case "access":
      await openAccess(grant, c, to, accepted);
      return;
  }
}

async function openAccess(
  grant: AccessGrant,
  c: Candidate,
  to: DispatchTargets,
  accepted: () => void,
): Promise<void> {
  if (!to.ledger) {
    accepted();
    to.log.warn(
      `Access for ${grant.clientIp} granted but firewall management is off; nothing to open.`,
    );
    return;
  }
  const s = grant.stanza;
  const request: GrantRequest = {
    clientIp: grant.clientIp,
    packetDstIp: c.dstIp,
    ports: grant.ports,
    messageType: grant.messageType,
    // resolveNatStep left an IPv4 address as the NAT host.
    ...(grant.nat ? { nat: { ip: grant.nat.host, port: grant.nat.port } } : {}),
    timeout: grant.timeout,
    stanza: {
      ...(s.forceSnat !== undefined ? { forceSnat: s.forceSnat } : {}),
      ...(s.forceNat !== undefined ? { forceNat: s.forceNat } : {}),
      forceMasquerade: s.forceMasquerade,
      disableDnat: s.disableDnat,
      forwardAll: s.forwardAll,
    },
  };
  // In a cluster the expiry is fixed once, here, so every gateway closes at the same second.
  const expiresAt = to.cluster ? to.commands.now() + grant.timeout : undefined;
  if (expiresAt !== undefined) to.cluster?.publish(request, expiresAt);
  // The accepted line waits for the firewall's answer to the grant's batch and comes just before
  // that batch's "Added access rule" line. Written first, it woke whoever reads the log (journald,
  // rsyslog, a pipe) and cost a system call while the knock was still on its way to the firewall.
  try {
    await to.ledger.grantAccess(request, expiresAt, accepted);
    accepted();
    publishGrantCommitted({ receivedAt: c.receivedAt, committedAt: Date.now() });
  } catch (e) {
    accepted();
    publishGrantFailed();
    to.log.error(
      `Cannot add access rules for ${grant.clientIp}: ${(e as Error).message} [FWK_ERR_FW_APPLY]`,
    );
  }
}
