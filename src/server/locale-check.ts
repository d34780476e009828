/**
 * LOCALE / -l: fwknopd 2.6.10 calls setlocale() with it and warns when the system has no such
 * locale. Node has no setlocale(); the messages fwknopd writes are not localised anyway, so all
 * that is left to do is the same check and warning: the name must be one `locale -a` lists.
 */
import type { Logger } from "../log/logger.js";
import { run } from "../sys/run.js";

/** "C.UTF-8" and "C.utf8" name the same locale: compare without case and '-' in the codeset. */
function normal(name: string): string {
  return name.toLowerCase().replace(/-/g, "");
}

export async function checkLocale(name: string | undefined, log: Logger): Promise<void> {
  if (name === undefined || name === "" || name.toUpperCase() === "NONE") return;
  let known = ["C", "POSIX"];
  try {
    known = known.concat((await run(["locale", "-a"], { timeoutMs: 10_000 })).stdout.split("\n"));
  } catch {
    // no locale(1): only the two built-in locales are known
  }
  if (known.some((l) => normal(l) === normal(name))) log.info(`Locale set to '${name}'.`);
  else log.warn(`WARNING: Unable to set locale to '${name}'.`);
}
