/**
 * The one shape of a firewall tool failure: what we were doing, which tool, its exit status and
 * the first line it printed, under the error code of the stage (init, apply, list).
 */
import { FwknopError } from "../errors.js";
import type { RunResult } from "../sys/run.js";

export type ToolErrorCode = "FWK_ERR_FW_APPLY" | "FWK_ERR_FW_LIST" | "FWK_ERR_FW_INIT";

export function toolError(
  code: ToolErrorCode,
  tool: string,
  r: RunResult,
  what: string,
): FwknopError {
  const detail = (r.stderr.trim() || r.stdout.trim()).split("\n")[0] ?? "";
  return new FwknopError(code, `${what}: ${tool} exited with status ${r.code}: ${detail}`);
}
