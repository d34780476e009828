/**
 * The firewall backend registry and chooser: FIREWALL_TYPE → backend, with each backend's own
 * fwknopd.conf settings read here so the shared settings.ts knows no backend. The keys are
 * exactly the names in backend-names.ts (checked by the compiler).
 */
import type { ServerConfig } from "../config/server-config.js";
import { FwknopError } from "../errors.js";
import type { BackendFactory, BackendOptions, FirewallBackend } from "./backend.js";
import { FIREWALL_TYPES, type FirewallType } from "./backend-names.js";
import { FirewalldBackend } from "./firewalld.js";
import {
  type FirewalldBackendSettings,
  firewalldSettingsFromConfig,
} from "./firewalld-commands.js";
import { IpfwBackend } from "./ipfw.js";
import { type IpfwBackendSettings, ipfwSettingsFromConfig } from "./ipfw-rules.js";
import { DualStackIptablesBackend } from "./iptables-dual-stack.js";
import { type NftBackendSettings, nftSettingsFromConfig } from "./nft-settings.js";
import { NftablesBackend } from "./nftables.js";
import { PfBackend } from "./pf.js";
import { type PfBackendSettings, pfSettingsFromConfig } from "./pf-rules.js";
import { type FirewallSettings, settingsFromConfig } from "./settings.js";

/** The shared settings with every backend's own (optional) part. */
export type BackendSettings = FirewallSettings &
  NftBackendSettings &
  FirewalldBackendSettings &
  PfBackendSettings &
  IpfwBackendSettings;

interface RegisteredBackend {
  create: BackendFactory;
  /** The backend's own variables added to the shared settings (NFT_TABLE, ...). */
  settings?: (cfg: ServerConfig, shared: FirewallSettings) => BackendSettings;
}

const BACKENDS = {
  iptables: { create: (s, o) => new DualStackIptablesBackend(s, o) },
  nftables: {
    create: (s, o) => new NftablesBackend(s, o),
    settings: (cfg, shared) => ({ ...shared, nft: nftSettingsFromConfig(cfg) }),
  },
  firewalld: {
    create: (s, o) => new FirewalldBackend(s, o),
    settings: (cfg, shared) => ({ ...shared, firewalld: firewalldSettingsFromConfig(cfg) }),
  },
  pf: {
    create: (s, o) => new PfBackend(s, o),
    settings: (cfg, shared) => ({ ...shared, pf: pfSettingsFromConfig(cfg) }),
  },
  ipfw: {
    create: (s, o) => new IpfwBackend(s, o),
    settings: (cfg, shared) => ({ ...shared, ipfw: ipfwSettingsFromConfig(cfg) }),
  },
} satisfies Record<FirewallType, RegisteredBackend>;

/** Names accepted as FIREWALL_TYPE. */
export function backendNames(): string[] {
  return [...FIREWALL_TYPES];
}

function registered(type: string): RegisteredBackend | undefined {
  const name = FIREWALL_TYPES.find((t) => t === type.toLowerCase());
  return name === undefined ? undefined : BACKENDS[name];
}

/** The firewall settings of the configured backend: shared variables plus its own. */
export function backendSettingsFromConfig(cfg: ServerConfig): BackendSettings {
  const shared = settingsFromConfig(cfg);
  return registered(cfg.firewallType)?.settings?.(cfg, shared) ?? shared;
}

/** The backend FIREWALL_TYPE names; unknown names are an operator error. */
export function createFirewallBackend(
  type: string,
  settings: BackendSettings,
  opts: BackendOptions,
): FirewallBackend {
  const backend = registered(type);
  if (!backend) {
    throw new FwknopError(
      "FWK_ERR_FW_UNKNOWN_TYPE",
      `Unknown FIREWALL_TYPE "${type}" (known: ${backendNames().join(", ")})`,
    );
  }
  return backend.create(settings, opts);
}
