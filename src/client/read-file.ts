/** Reading a file the client was pointed at (rc file, key file, run file), with upstream's words. */
import { readFileSync } from "node:fs";
import { FwknopError } from "../errors.js";

/**
 * The file's text; FWK_ERR_CLIENT_FILE when it cannot be read: `Could not open <path>: …`, or
 * `Could not open config file: <path>: …` for the files upstream calls config files.
 */
export function readClientFile(path: string, kind?: "config file"): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const what = kind ? `${kind}: ${path}` : path;
    throw new FwknopError("FWK_ERR_CLIENT_FILE", `Could not open ${what}: ${(e as Error).message}`);
  }
}
