/**
 * The nftables backend's own fwknopd.conf variables (NFT_TABLE, NFT_PRIORITY, NFT_MARK), read into
 * a plain object. The chain switches and chain names come through the shared ENABLE_NFT_* /
 * NFT_*_ACCESS family like every backend's (settings.ts).
 */
import type { ServerConfig } from "../config/server-config.js";
import { FAMILY_VARIABLES } from "../config/server-variables.js";
import { FwknopError } from "../errors.js";
import { type NftAttachTarget, parseAttach } from "./nft-attach.js";
import type { FirewallSettings } from "./settings.js";

export interface NftSettings {
  /** Our table (family inet); everything we create lives in it, flush deletes it. */
  table: string;
  /**
   * Where NFT_TABLE and each NFT_*_ACCESS was set (`file:line`, by variable name), for a name
   * only nft itself can refuse (nftables.ts).
   */
  setAt?: Readonly<Record<string, string>>;
  /** Offset added to each base chain's standard priority (filter 0, dstnat -100, srcnat 100). */
  priority: number;
  /** Bit(s) OR-ed into the packet mark of granted traffic, for the admin's own accept rule. */
  mark: number;
  /** NFT_ATTACH: the admin's base chain that gets our mark-accept line (nft-attach.ts). */
  attach?: NftAttachTarget;
}

/** What the nftables backend is built from: the shared settings plus its own. */
export interface NftBackendSettings extends FirewallSettings {
  /** NFT_TABLE, NFT_PRIORITY, NFT_MARK; the defaults when absent. */
  nft?: NftSettings;
}

export const DEFAULT_NFT_SETTINGS: Readonly<NftSettings> = {
  table: "fwknop",
  priority: -10,
  mark: 0x2000_0000,
};

/** NFT_INPUT_ACCESS ... by chain kind: their fifth field names our regular chain. */
export const NFT_CHAIN_VARIABLES = FAMILY_VARIABLES.nftables.chains;

/** nft identifiers: a letter, then letters, digits, `_` or `-` (we never need quoting). */
const NFT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export function nftSettingsFromConfig(cfg: ServerConfig): NftSettings {
  const table = cfg.get("NFT_TABLE");
  if (!NFT_NAME.test(table)) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `${cfg.where("NFT_TABLE") ?? "NFT_TABLE"}: Invalid NFT_TABLE name '${table}' (a letter, then letters, digits, _ or -)`,
    );
  }
  const markText = cfg.get("NFT_MARK");
  const mark = /^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(markText) ? Number(markText) : Number.NaN;
  if (!(mark > 0 && mark <= 0xffff_ffff)) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `Invalid NFT_MARK '${markText}' (a non-zero 32-bit number, e.g. 0x20000000)`,
    );
  }
  const settings: NftSettings = { table, priority: cfg.int("NFT_PRIORITY"), mark };
  // The default names are ones nft takes; a name set in a file is reported at its line.
  const setAt: Record<string, string> = {};
  for (const name of ["NFT_TABLE", ...Object.values(NFT_CHAIN_VARIABLES)] as const) {
    const where = cfg.where(name);
    if (where !== undefined && where !== "default") setAt[name] = where;
  }
  if (Object.keys(setAt).length > 0) settings.setAt = setAt;
  const attachText = cfg.get("NFT_ATTACH");
  if (attachText !== undefined && attachText !== "") {
    const attach = parseAttach(attachText);
    if (!attach) {
      throw new FwknopError(
        "FWK_ERR_CONFIG_VALUE",
        `${cfg.where("NFT_ATTACH")}: Invalid NFT_ATTACH '${attachText}' (family, table, chain of your base chain, e.g. inet, filter, input)`,
      );
    }
    settings.attach = attach;
  }
  return settings;
}
