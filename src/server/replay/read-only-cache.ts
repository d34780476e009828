/**
 * The digests of a `digest.cache` for reading only (`fwknopd --explain`): `claim` answers like
 * `lookup`, nothing is ever recorded or written (the file is only opened for reading); a missing
 * or unreadable file is an empty cache.
 */
import type { Logger } from "../../log/logger.js";
import { DigestTable } from "./digest-table.js";
import { type LoadResult, loadFile } from "./file-load.js";
import type { ReplayCache, ReplayEntry } from "./replay-cache.js";

export function openReadOnlyReplayCache(path: string, log: Logger): ReplayCache {
  let loaded: LoadResult | undefined;
  try {
    loaded = loadFile(path, log);
  } catch {
    loaded = undefined;
  }
  const table = loaded?.table ?? new DigestTable(16);
  const find = (digest: string): ReplayEntry | undefined => {
    const row = table.find(digest);
    return row >= 0 ? table.entry(row) : loaded?.rows.find(digest);
  };
  const lookup = (digest: string) => Promise.resolve(find(digest));
  return {
    lookup,
    claim: (e) => lookup(e.digest),
    get size() {
      return table.size + (loaded?.rows.size ?? 0);
    },
    close: () => {
      loaded?.rows.close();
      return Promise.resolve();
    },
  };
}
