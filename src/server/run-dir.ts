/**
 * FWKNOP_RUN_DIR at start-up, in fwknopd 2.6.10's place (after logging, before --fw-list and
 * access.conf) and with its messages: a missing directory is created (0700, parents too) and
 * reported; a path that exists but is not a directory, or cannot be created, is fatal.
 */
import { mkdirSync, statSync } from "node:fs";
import { FwknopError } from "../errors.js";
import type { Logger } from "../log/logger.js";

export function ensureRunDir(runDir: string, log: Logger): void {
  let isDir: boolean | undefined;
  try {
    isDir = statSync(runDir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") isDir = false;
    else if (code !== "ENOENT") {
      throw new FwknopError(
        "FWK_ERR_CONFIG_VALUE",
        `Unable to stat Run directory: ${runDir}: ${(e as Error).message}`,
      );
    }
  }
  if (isDir === false) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `Specified Run directory: ${runDir} is NOT a directory`,
    );
  }
  if (isDir) return;
  log.info(`Run directory: ${runDir} does not exist. Attempting to create it.`);
  try {
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_CONFIG_VALUE",
      `Unable to create Run directory: ${runDir}: ${(e as Error).message}`,
    );
  }
  log.info(`Successfully created Run directory: ${runDir}`);
}
