/**
 * The six-field chain specification of IPT_*_ACCESS (and FIREWD_*_ACCESS):
 * `Target, Table, From_chain, Jump_rule_position, To_chain, Rule_position`.
 * Spaces are removed, only letters, digits, `_`, `,` and space are allowed. Positions are read with
 * strtol like upstream (0-65536); Rule_position is validated but, as upstream, never used.
 */
import { ok, type Result, reject } from "../errors.js";
import { parseCInt } from "./tokenizer.js";

export interface ChainSpec {
  target: string;
  table: string;
  fromChain: string;
  jumpPosition: number;
  toChain: string;
  rulePosition: number;
}

const MAX_POSITION = 65536;

/**
 * The shape check upstream applies to every chain variable, used or not (validate_ipt_chain_conf):
 * allowed characters and exactly six fields. Returns the fields with spaces removed.
 */
export function checkChainSpecShape(text: string): Result<string[]> {
  const bad = /[^A-Za-z0-9_, ]/.exec(text);
  if (bad) {
    return reject(
      "FWK_ERR_CONFIG_CHAIN_SPEC",
      `character '${bad[0]}' is not allowed (only letters, digits, '_', ',' and spaces)`,
    );
  }
  const fields = text.replaceAll(" ", "").split(",");
  if (fields.length !== 6) {
    return reject(
      "FWK_ERR_CONFIG_CHAIN_SPEC",
      `${fields.length} fields, need 6: Target, Table, From_chain, Jump_rule_position, To_chain, Rule_position`,
    );
  }
  return ok(fields);
}

/** Full parse of a chain the firewall will use: shape, non-empty names, positions. */
export function parseChainSpec(text: string): Result<ChainSpec> {
  const shape = checkChainSpecShape(text);
  if (!shape.ok) return shape;
  const fields = shape.value;
  const [target = "", table = "", fromChain = "", jump = "", toChain = "", rule = ""] = fields;
  // Upstream accepts empty names and then fails inside iptables; we refuse them here.
  const names = { Target: target, Table: table, From_chain: fromChain, To_chain: toChain };
  for (const [label, value] of Object.entries(names)) {
    if (value === "") return reject("FWK_ERR_CONFIG_CHAIN_SPEC", `${label} is empty`);
  }
  const jumpPosition = parseCInt(jump).value;
  if (jumpPosition < 0 || jumpPosition > MAX_POSITION) {
    return reject("FWK_ERR_CONFIG_CHAIN_SPEC", `invalid jump rule position '${jump}' (0-65536)`);
  }
  const rulePosition = parseCInt(rule).value;
  if (rulePosition < 0 || rulePosition > MAX_POSITION) {
    return reject(
      "FWK_ERR_CONFIG_CHAIN_SPEC",
      `invalid to_chain rule position '${rule}' (0-65536)`,
    );
  }
  return ok({ target, table, fromChain, jumpPosition, toChain, rulePosition });
}
