/**
 * The config boundary of the daemon: fwknopd.conf read once per (re)load into one typed object
 * per consumer (pipeline, commands, logging, replay cache, files, firewall start/stop), so no
 * consumer reads variables by name or repeats a default. The firewall's and the intake's own
 * settings are built beside their code (firewall/select.ts, intake/select.ts).
 */
import type { ServerConfig } from "../config/server-config.js";
import { familyVariables, flushVariables } from "../config/server-variables.js";
import { FwknopError } from "../errors.js";
import type { PolicySettings } from "./policy.js";
import type { PrecheckOptions } from "./precheck.js";

export interface PipelineSettings {
  precheck: PrecheckOptions;
  /** Everything but --test mode, which comes from the command line. */
  policy: Omit<PolicySettings, "testMode">;
}

export function pipelineSettings(cfg: ServerConfig): PipelineSettings {
  const f = familyVariables(cfg.firewallType);
  return {
    precheck: {
      http: cfg.bool("ENABLE_SPA_OVER_HTTP"),
      anyUserAgent: cfg.bool("ALLOW_ANY_USER_AGENT"),
      xForwardedFor: cfg.bool("ENABLE_X_FORWARDED_FOR"),
    },
    policy: {
      packetAging: cfg.bool("ENABLE_SPA_PACKET_AGING"),
      maxPacketAge: cfg.int("MAX_SPA_PACKET_AGE"),
      // pf and ipfw grant plain access only.
      natForwarding: f !== undefined && cfg.bool(f.forwarding),
      localNat: f !== undefined && cfg.bool(f.localNat),
    },
  };
}

/** What the grant stages after the pipeline read: SUDO_EXE, ENABLE_NAT_DNS. */
export interface GrantStageSettings {
  sudoExe: string;
  natDns: boolean;
}

export function grantStageSettings(cfg: ServerConfig): GrantStageSettings {
  return { sudoExe: cfg.get("SUDO_EXE"), natDns: cfg.bool("ENABLE_NAT_DNS") };
}

export interface LoggingSettings {
  identity: string;
  facility: string;
  /** VERBOSE from the file (added to the -v count). */
  verbosity: number;
  /** LOG_FORMAT (ours): upstream's text lines or one JSON object per event. */
  format: "text" | "json";
}

export function loggingSettings(cfg: ServerConfig): LoggingSettings {
  return {
    identity: cfg.get("SYSLOG_IDENTITY"),
    facility: cfg.get("SYSLOG_FACILITY"),
    verbosity: cfg.int("VERBOSE"),
    format: logFormat(cfg),
  };
}

/** LOG_FORMAT: `text` (default) or `json`, any case; anything else names its file:line. */
export function logFormat(cfg: ServerConfig): "text" | "json" {
  const raw = cfg.get("LOG_FORMAT");
  const format = raw.toLowerCase();
  if (format === "text" || format === "json") return format;
  throw new FwknopError(
    "FWK_ERR_CONFIG_VALUE",
    `${cfg.where("LOG_FORMAT") ?? "LOG_FORMAT"}: Invalid LOG_FORMAT '${raw}' (text or json)`,
  );
}

export interface FileSettings {
  runDir: string;
  pidFile: string;
  /** Undefined with ENABLE_DIGEST_PERSISTENCE N (no replay cache at all, as upstream). */
  digestFile: string | undefined;
  /** ACCESS_FOLDER when set, else ACCESS_FILE. */
  access: { folder: string } | { file: string };
}

export function fileSettings(cfg: ServerConfig): FileSettings {
  const folder = cfg.get("ACCESS_FOLDER");
  return {
    runDir: cfg.get("FWKNOP_RUN_DIR"),
    pidFile: cfg.get("FWKNOP_PID_FILE"),
    digestFile: cfg.bool("ENABLE_DIGEST_PERSISTENCE") ? cfg.get("DIGEST_FILE") : undefined,
    access: folder ? { folder } : { file: cfg.get("ACCESS_FILE") },
  };
}

/** FLUSH_IPT_AT_INIT / FLUSH_NFT_AT_EXIT ... of the configured backend's family. */
export function flushSettings(cfg: ServerConfig): { atInit: boolean; atExit: boolean } {
  const f = flushVariables(cfg.firewallType);
  return { atInit: cfg.bool(f.atInit), atExit: cfg.bool(f.atExit) };
}
