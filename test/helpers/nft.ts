/**
 * nftables fixtures for the backend tests: the typical default-drop `inet filter` ruleset of an
 * SPA host, and backend settings that run `nft` from PATH.
 */

import { DEFAULT_NFT_SETTINGS, type NftBackendSettings } from "../../src/firewall/nft-settings.js";
import { defaultFirewallSettings, type FirewallSettings } from "../../src/firewall/settings.js";
import { runChecked } from "../../src/sys/run.js";

/** The one line an operator adds to a default-drop input chain (docs/firewall.md). */
export function markAcceptLine(mark = DEFAULT_NFT_SETTINGS.mark): string {
  const hex = `0x${mark.toString(16)}`;
  return `meta mark & ${hex} == ${hex} accept`;
}

/**
 * Policy drop on input; loopback, established traffic and the SPA UDP port get in. With
 * `integrated`, also the accept-our-mark line, as docs/firewall.md tells operators to add.
 */
export async function defaultDropFilter(
  ns: string,
  integrated: boolean,
  spaPort = 62201,
): Promise<void> {
  const lines = [
    "table inet filter {",
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    "    iif lo accept",
    "    ct state established,related accept",
    `    udp dport ${spaPort} accept`,
    ...(integrated ? [`    ${markAcceptLine()}`] : []),
    "  }",
    "}",
  ];
  await runChecked(["nft", "-f", "-"], { netns: ns, input: `${lines.join("\n")}\n` });
}

export function nftSettings(over: Partial<FirewallSettings> = {}): NftBackendSettings {
  return { ...defaultFirewallSettings(), exe: "nft", nft: { ...DEFAULT_NFT_SETTINGS }, ...over };
}
