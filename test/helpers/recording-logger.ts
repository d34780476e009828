/** A Logger that keeps every line as `level: message`, for tests that check what was logged. */
import type { Logger } from "../../src/log/logger.js";

export function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => {
    lines.push(`${level}: ${msg}`);
  };
  return {
    lines,
    error: at("error"),
    warn: at("warn"),
    notice: at("notice"),
    info: at("info"),
    debug: at("debug"),
  };
}
