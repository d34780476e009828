/**
 * The running server: owns the configuration, the intake, the replay cache, the grant ledger
 * and the firewall backend, and wires each candidate packet through the pipeline to a grant.
 * Reload (SIGHUP / -R) swaps configuration without dropping active access.
 */

import type { ClusterPort } from "../cluster/cluster.js";
import type { AccessStanza } from "../config/access-stanza.js";
import type { ServerConfig } from "../config/server-config.js";
import type { FirewallBackend } from "../firewall/backend.js";
import type { GrantRequest } from "../firewall/rules.js";
import type { FirewallSettings } from "../firewall/settings.js";
import type { Logger } from "../log/logger.js";
import { type CommandContext, CommandCycles } from "./commands.js";
import {
  type GrantStageSettings,
  grantStageSettings,
  pipelineSettings,
} from "./daemon-settings.js";
import { DecisionLog } from "./decision-log.js";
import { dispatchGrant } from "./dispatch.js";
import type { GrantLedger } from "./grants.js";
import type { Candidate, Intake } from "./intake/intake.js";
import { resolveNatStep } from "./nat-resolve.js";
import { type Decision, type PipelineContext, processCandidate } from "./pipeline.js";
import type { ReplayCache } from "./replay/replay-cache.js";

export interface DaemonParts {
  config: ServerConfig;
  stanzas: AccessStanza[];
  log: Logger;
  intake: Intake;
  replay: ReplayCache | undefined;
  /** Absent when no stanza needs the firewall (all command cycles) or in --test mode. */
  firewall: { backend: FirewallBackend; ledger: GrantLedger } | undefined;
  /** The cluster (REPLAY_CACHE_URL): shared replay check and grant fan-out. */
  cluster?: ClusterPort | undefined;
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
  /** Built from the configuration at start and at each reload. */
  private stage: GrantStageSettings;
  private commands: CommandContext;
  private readonly cycles: CommandCycles;
  private packets = 0;
  private readonly now: () => number;

  constructor(parts: DaemonParts) {
    this.parts = parts;
    this.now = parts.now ?? (() => Math.floor(Date.now() / 1000));
    this.ctx = pipelineContext(parts, this.now);
    this.decisions = new DecisionLog({ log: parts.log });
    this.stage = grantStageSettings(parts.config);
    this.commands = { log: parts.log, sudoExe: this.stage.sudoExe, now: this.now };
    this.cycles = new CommandCycles(this.commands);
  }

  /** Packets by outcome (GRANTED or the refusal code) since start: what the metrics export. */
  outcomeCounts(): ReadonlyMap<string, number> {
    return this.decisions.counts;
  }

  /** One line with the packet counts by outcome code, e.g. `GRANTED=3, SPA_MSG_REPLAY=1`. */
  countsSummary(): string {
    const counts = [...this.decisions.counts].sort(([a], [b]) => a.localeCompare(b));
    const active = this.parts.firewall ? `; active grants: ${this.parts.firewall.ledger.size}` : "";
    return `Packets by outcome: ${counts.map(([k, n]) => `${k}=${n}`).join(", ") || "none yet"}${active}`;
  }

  async start(): Promise<void> {
    // The handler returns a promise when the packet's processing waits, so a file intake can
    // wait for each packet's outcome; refused junk is handled synchronously.
    await this.parts.intake.start((c) => this.takeCandidate(c));
  }

  /** New configuration, same intake/ledger/firewall: active grants stay as they are. */
  reload(
    config: ServerConfig,
    stanzas: AccessStanza[],
    settings: FirewallSettings | undefined,
  ): void {
    if (settings) this.parts.firewall?.ledger.useSettings(settings);
    this.parts = { ...this.parts, config, stanzas };
    this.ctx = pipelineContext(this.parts, this.now);
    this.stage = grantStageSettings(config);
    this.commands = { ...this.commands, sudoExe: this.stage.sudoExe };
  }

  async stop(): Promise<void> {
    await this.parts.intake.stop();
    await this.cycles.closeAll();
    this.decisions.close();
  }

  /** One packet's errors are logged, never thrown into the intake. */
  private takeCandidate(c: Candidate): Promise<void> | undefined {
    // No closure per packet: a flood of junk is handled synchronously and never needs one.
    try {
      return this.onCandidate(c)?.catch((e: unknown) => this.failed(c, e));
    } catch (e) {
      this.failed(c, e);
      return undefined;
    }
  }

  private failed(c: Candidate, e: unknown): void {
    this.parts.log.error(
      `Internal error while processing a packet from ${c.srcIp}: ${(e as Error).stack ?? e}`,
    );
  }

  /**
   * The back half of the packet path, one straight walk: pipeline → NAT step → the decision,
   * now final, recorded once (counts, logs) → the grant to its owner.
   */
  private onCandidate(c: Candidate): Promise<void> | undefined {
    const { packetLimit } = this.parts;
    if (packetLimit > 0) {
      // Past the limit nothing more is taken (a pcap file may hand over a batch at once).
      if (this.packets >= packetLimit) return undefined;
      // Process this last one, then stop.
      if (++this.packets >= packetLimit) setImmediate(this.parts.onLimit);
    }
    const decided = processCandidate(c, this.ctx);
    if (decided instanceof Promise) return decided.then((d) => this.decided(c, d));
    return this.decided(c, decided);
  }

  private decided(c: Candidate, decided: Decision): Promise<void> | undefined {
    // A refusal is final as it comes: only a grant has a NAT step and an owner to go to.
    if (!decided.ok) {
      this.decisions.record(c, decided);
      return undefined;
    }
    return this.grant(c, decided);
  }

  private async grant(c: Candidate, decided: Decision): Promise<void> {
    const decision = await resolveNatStep(decided, { dns: this.stage.natDns });
    this.decisions.record(c, decision);
    if (!decision.ok) return;
    await dispatchGrant(c, decision, {
      log: this.parts.log,
      ledger: this.parts.firewall?.ledger,
      cycles: this.cycles,
      commands: this.commands,
      cluster: this.parts.cluster,
    });
  }

  /** A grant another gateway of the cluster decided: same ledger, same (absolute) expiry. */
  async applyClusterGrant(request: GrantRequest, expiresAt: number): Promise<void> {
    await this.parts.firewall?.ledger.grantAccess(request, expiresAt);
  }
}

/** The pipeline's view of the configuration (also used by `--explain`). */
export function pipelineContext(
  parts: Pick<DaemonParts, "config" | "stanzas" | "replay" | "log" | "testMode" | "cluster">,
  now: () => number,
): PipelineContext {
  const { precheck, policy } = pipelineSettings(parts.config);
  return {
    stanzas: parts.stanzas,
    replay: parts.replay,
    shared: parts.cluster?.replay,
    now,
    info: (line) => parts.log.info(line),
    // Unset without -v: the pipeline then builds no debug text at all.
    ...(parts.log.debugEnabled === false ? {} : { debug: (line) => parts.log.debug(line) }),
    precheck,
    policy: { ...policy, testMode: parts.testMode },
  };
}
