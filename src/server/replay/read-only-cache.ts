/**
 * The digests of a `digest.cache` for reading only (`fwknopd --explain`): `claim` answers like
 * `lookup`, nothing is ever recorded or written; a missing or unreadable file is an empty cache.
 */
import type { Logger } from "../../log/logger.js";
import { DigestTable } from "./digest-table.js";
import { loadFile } from "./file-load.js";
import type { ReplayCache } from "./replay-cache.js";

export function openReadOnlyReplayCache(path: string, log: Logger): ReplayCache {
  let table: DigestTable;
  try {
    table = loadFile(path, 0, log).table;
  } catch {
    table = new DigestTable(16);
  }
  const lookup = (digest: string) => {
    const row = table.find(digest);
    return Promise.resolve(row < 0 ? undefined : table.entry(row));
  };
  return {
    lookup,
    claim: (e) => lookup(e.digest),
    get size() {
      return table.size;
    },
    close: () => Promise.resolve(),
  };
}
