/**
 * Steps on upstream's FWKNOP_* chains that the iptables backend and firewalld's passthrough
 * chains share (spec §11.1.1, §11.1.6): the same iptables arguments, sent through either tool
 * (`iptables …` or `firewall-cmd --direct --passthrough ipv4 …`), given as `cmd`.
 */
import { FwknopError } from "../errors.js";
import type { RunResult } from "../sys/run.js";
import type { ChainKind } from "./rule.js";
import type { ChainSpec } from "./settings.js";

/** Runs one iptables argument list through the backend's tool. */
export type ChainCommand = (args: readonly string[]) => Promise<RunResult>;

/** A jump rule is deleted at most this many times per chain (upstream's bound). */
const MAX_JUMP_DELETES = 10;
const COMMENT_PROBE = "__TMPCOMMENT__";

/** Flush: jump rules out (at most 10 per chain), then `-F` and `-X` each chain. */
export async function deleteChains(cmd: ChainCommand, specs: readonly ChainSpec[]): Promise<void> {
  for (const spec of specs) {
    for (let i = 0; i < MAX_JUMP_DELETES; i++) {
      const r = await cmd(["-t", spec.table, "-D", spec.fromChain, "-j", spec.toChain]);
      if (r.code !== 0) break;
    }
    await cmd(["-t", spec.table, "-F", spec.toChain]);
    await cmd(["-t", spec.table, "-X", spec.toChain]);
  }
}

/**
 * ENABLE_*_COMMENT_CHECK: a harmless probe rule with `-m comment --comment __TMPCOMMENT__` at the
 * top of the INPUT chain's source chain, listed and deleted again; true if the comment showed.
 */
export async function commentMatchWorks(
  cmd: ChainCommand,
  input: ChainSpec,
  probeSrc: string,
): Promise<boolean> {
  const rule = ["-s", probeSrc, "-m", "comment", "--comment", COMMENT_PROBE, "-j", input.target];
  await cmd(["-t", input.table, "-I", input.fromChain, "1", ...rule]);
  const listed = await cmd(["-t", input.table, "-L", input.fromChain, "-n"]);
  await cmd(["-t", input.table, "-D", input.fromChain, ...rule]);
  return listed.stdout.includes(COMMENT_PROBE);
}

/** The active chain of a rule kind; a rule for an inactive kind is a caller's error. */
export function activeChain(
  chains: Partial<Record<ChainKind, ChainSpec>>,
  kind: ChainKind,
  switches: "ENABLE_IPT_*" | "ENABLE_FIREWD_*",
): ChainSpec {
  const spec = chains[kind];
  if (!spec) {
    throw new FwknopError(
      "FWK_ERR_FW_CHAIN_INACTIVE",
      `no active ${kind} chain for this rule (check the ${switches} settings)`,
    );
  }
  return spec;
}
