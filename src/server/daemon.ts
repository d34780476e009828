/**
 * The running server: owns the configuration, the intake, the replay cache, the grant ledger
 * and the firewall backend, and wires each candidate packet through the pipeline to a grant.
 * Reload (SIGHUP / -R) swaps configuration without dropping active access.
 */

import { lookup } from "node:dns/promises";
import { isIPv4 } from "node:net";
import type { AccessStanza } from "../config/access-config.js";
import type { ServerConfig } from "../config/server-config.js";
import { FIREWALL_PREFIX } from "../config/server-variables.js";
import type { FirewallBackend } from "../firewall/backend.js";
import { rulesForGrant } from "../firewall/rules.js";
import type { FirewallSettings } from "../firewall/settings.js";
import { logEvent } from "../log/event.js";
import type { Logger } from "../log/logger.js";
import { formatSpaDump } from "../protocol/dump.js";
import { CommandCycles, runSpaCommand } from "./commands.js";
import { DecisionLog } from "./decision-log.js";
import { formatPorts, publishGrantCommitted, publishGrantFailed } from "./grant-events.js";
import type { GrantLedger } from "./grants.js";
import type { Candidate, Intake } from "./intake/intake.js";
import { type PipelineContext, processCandidate } from "./pipeline.js";
import type { AccessGrant } from "./policy.js";
import type { ReplayCache } from "./replay/replay-cache.js";

export interface DaemonParts {
  config: ServerConfig;
  stanzas: AccessStanza[];
  log: Logger;
  intake: Intake;
  replay: ReplayCache | undefined;
  /** Absent when no stanza needs the firewall (all command cycles) or in --test mode. */
  firewall:
    | { backend: FirewallBackend; ledger: GrantLedger; settings: FirewallSettings }
    | undefined;
  testMode: boolean;
  /** Exit after this many candidate packets (0 = no limit). */
  packetLimit: number;
  /** Called when the packet limit is reached. */
  onLimit: () => void;
  now?: () => number;
}

export class Daemon {
  private parts: DaemonParts;
  private ctx: PipelineContext;
  private readonly decisions: DecisionLog;
  private readonly cycles: CommandCycles;
  private packets = 0;
  private readonly now: () => number;

  constructor(parts: DaemonParts) {
    this.parts = parts;
    this.now = parts.now ?? (() => Math.floor(Date.now() / 1000));
    this.ctx = pipelineContext(parts, this.now);
    this.decisions = new DecisionLog({ log: parts.log });
    this.cycles = new CommandCycles({
      log: parts.log,
      sudoExe: parts.config.get("SUDO_EXE") ?? "/usr/bin/sudo",
      now: this.now,
    });
  }

  /** One line with the packet counts by outcome code, e.g. `GRANTED=3, SPA_MSG_REPLAY=1`. */
  countsSummary(): string {
    const counts = [...this.decisions.counts].sort(([a], [b]) => a.localeCompare(b));
    const active = this.parts.firewall ? `; active grants: ${this.parts.firewall.ledger.size}` : "";
    return `Packets by outcome: ${counts.map(([k, n]) => `${k}=${n}`).join(", ") || "none yet"}${active}`;
  }

  async start(): Promise<void> {
    // The handler returns its promise so a file intake can wait for each packet's outcome.
    await this.parts.intake.start((c) =>
      this.onCandidate(c).catch((e: unknown) =>
        this.parts.log.error(
          `Internal error while processing a packet from ${c.srcIp}: ${(e as Error).stack ?? e}`,
        ),
      ),
    );
  }

  /** New configuration, same intake/ledger/firewall: active grants stay as they are. */
  reload(
    config: ServerConfig,
    stanzas: AccessStanza[],
    settings: FirewallSettings | undefined,
  ): void {
    const firewall =
      this.parts.firewall && settings ? { ...this.parts.firewall, settings } : this.parts.firewall;
    this.parts = { ...this.parts, config, stanzas, firewall };
    this.ctx = pipelineContext(this.parts, this.now);
  }

  async stop(): Promise<void> {
    await this.parts.intake.stop();
    await this.cycles.closeAll();
    this.decisions.close();
  }

  private async onCandidate(c: Candidate): Promise<void> {
    const { packetLimit } = this.parts;
    if (packetLimit > 0 && ++this.packets >= packetLimit) {
      // Process this last one, then stop taking more.
      setImmediate(this.parts.onLimit);
    }
    const decision = await processCandidate(c, this.ctx);
    this.decisions.record(c, decision);
    if (!decision.ok) return;
    const { grant, message } = decision;
    const log = this.parts.log;
    logEvent(log, {
      level: "info",
      event: "spa.accepted",
      message: `(stanza #${grant.stanza.index}) SPA Packet from IP: ${c.srcIp} received with access source match; message: '${message.message}'`,
      srcIp: c.srcIp,
      stanza: grant.stanza.index,
      messageType: grant.messageType,
      ...(grant.kind === "command" ? {} : { ports: formatPorts(grant.ports) }),
    });
    // With -v, the field dump upstream prints for each decoded packet.
    log.debug(
      formatSpaDump({
        ...message,
        hmacType: grant.stanza.hmacKey ? grant.stanza.hmacType : undefined,
        encryptionType: decision.encryption,
        encMode: decision.encryption === "gpg" ? "Asymmetric" : grant.stanza.encMode,
        finalData: decision.wire,
      }),
    );
    switch (grant.kind) {
      case "command":
        await runSpaCommand(grant, {
          log,
          sudoExe: this.parts.config.get("SUDO_EXE") ?? "/usr/bin/sudo",
          now: this.now,
        });
        return;
      case "cmd-cycle":
        await this.cycles.open(grant, {
          packetSrcIp: c.srcIp,
          packetDstIp: c.dstIp,
          timestamp: message.timestamp,
          clientTimeout: message.clientTimeout,
        });
        return;
      case "access":
        await this.openAccess(grant, c);
        return;
    }
  }

  private async openAccess(grant: AccessGrant, c: Candidate): Promise<void> {
    const fw = this.parts.firewall;
    const log = this.parts.log;
    if (!fw) {
      log.warn(
        `Access for ${grant.clientIp} granted but firewall management is off; nothing to open.`,
      );
      return;
    }
    let nat: { ip: string; port: number } | undefined;
    if (grant.nat) {
      const ip = await this.resolveNatHost(grant.nat.host);
      if (!ip) return;
      nat = { ip, port: grant.nat.port };
    }
    const s = grant.stanza;
    const rules = rulesForGrant(
      {
        clientIp: grant.clientIp,
        packetDstIp: c.dstIp,
        ports: grant.ports,
        messageType: grant.messageType,
        ...(nat ? { nat } : {}),
        timeout: grant.timeout,
        stanza: {
          ...(s.forceSnat !== undefined ? { forceSnat: s.forceSnat } : {}),
          ...(s.forceNat !== undefined ? { forceNat: s.forceNat } : {}),
          forceMasquerade: s.forceMasquerade,
          disableDnat: s.disableDnat,
          forwardAll: s.forwardAll,
        },
      },
      fw.settings,
      this.now(),
    );
    try {
      await fw.ledger.grant(rules);
      publishGrantCommitted({
        receivedAt: c.receivedAt,
        committedAt: Date.now(),
        backend: fw.backend.name,
      });
    } catch (e) {
      publishGrantFailed(fw.backend.name);
      log.error(
        `Cannot add access rules for ${grant.clientIp}: ${(e as Error).message} [FWK_ERR_FW_APPLY]`,
      );
    }
  }

  private async resolveNatHost(host: string): Promise<string | undefined> {
    if (isIPv4(host)) return host;
    const log = this.parts.log;
    if (!this.parts.config.bool("ENABLE_NAT_DNS")) {
      log.warn(
        `Invalid NAT IP in SPA message; resolving the hostname '${host}' is disabled [FWK_ERR_SPA_NAT_RESOLVE]`,
      );
      return undefined;
    }
    const valid =
      host.length <= 254 && host.split(".").every((l) => /^[A-Za-z0-9-]{1,63}$/.test(l));
    if (!valid) {
      log.warn(`Invalid Hostname in NAT SPA message: '${host}' [FWK_ERR_SPA_NAT_RESOLVE]`);
      return undefined;
    }
    try {
      return (await lookup(host, { family: 4 })).address;
    } catch {
      log.warn(
        `Unable to resolve Hostname in NAT SPA message: '${host}' [FWK_ERR_SPA_NAT_RESOLVE]`,
      );
      return undefined;
    }
  }
}

function pipelineContext(parts: DaemonParts, now: () => number): PipelineContext {
  const cfg = parts.config;
  return {
    stanzas: parts.stanzas,
    replay: parts.replay,
    now,
    info: (line) => parts.log.info(line),
    precheck: {
      http: cfg.bool("ENABLE_SPA_OVER_HTTP"),
      anyUserAgent: cfg.bool("ALLOW_ANY_USER_AGENT"),
      xForwardedFor: cfg.bool("ENABLE_X_FORWARDED_FOR"),
    },
    policy: {
      packetAging: cfg.bool("ENABLE_SPA_PACKET_AGING"),
      maxPacketAge: cfg.int("MAX_SPA_PACKET_AGE"),
      natForwarding: cfg.bool(`ENABLE_${FIREWALL_PREFIX[cfg.firewallType]}_FORWARDING`),
      localNat: cfg.bool(`ENABLE_${FIREWALL_PREFIX[cfg.firewallType]}_LOCAL_NAT`),
      testMode: parts.testMode,
    },
  };
}
