/**
 * The upstream-compatible `digest.cache` replay cache (spec §12.1).
 *
 * File format (fwknopd 2.6.10): a `# <digest> <proto> ...` header line, then one line per
 * accepted packet: `<digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>`.
 * Files written by the C daemon load here and ours load there.
 *
 * Where we go beyond upstream: a torn last line (crash mid-append) is tolerated and the next
 * append starts on a fresh line; when the file cannot be used, replay protection continues in
 * memory (upstream switches it off).
 *
 * Like upstream, nothing is ever dropped by age: whether an old packet would pass the age check
 * depends on MAX_SPA_PACKET_AGE / ENABLE_SPA_PACKET_AGING, which a reload or restart may change,
 * and a packet accepted once must never be accepted again whatever the configuration says later.
 * The operator empties the cache explicitly with `--rotate-digest-cache` (docs/hardening.md).
 */

import { closeSync, constants as fsc, openSync, renameSync, writeSync } from "node:fs";
import { FwknopError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import { DigestTable, type IpValue, ipv4ToNumber } from "./digest-table.js";
import { emptyStats, type FileStats, type LoadResult, loadFile } from "./file-load.js";
import { FileRows } from "./file-rows.js";
import type { ReplayCache, ReplayEntry } from "./replay-cache.js";

export const DIGEST_FILE_HEADER =
  "# <digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>\n";

/** Upstream's warning when the file cannot be used; operators know it. */
const NOT_REMEMBERED = "Error opening digest cache file. Incoming digests will not be remembered.";

export interface FileReplayCacheOptions {
  path: string;
  /** `--rotate-digest-cache`: rename the file to `<path>-old` and start a fresh one. */
  rotate?: boolean;
  log: Logger;
}

export interface FileReplayCache extends ReplayCache {
  readonly path: string;
  /** False when digests are kept in memory only (file unreadable or unwritable). */
  readonly persistent: boolean;
  /** Remembers a digest unconditionally (a known one is not written twice). */
  add(entry: ReplayEntry): Promise<void>;
}

export async function openFileReplayCache(opts: FileReplayCacheOptions): Promise<FileReplayCache> {
  const { path, log } = opts;
  if (opts.rotate) rotate(path, log);
  let loaded: LoadResult;
  try {
    loaded = loadFile(path, log);
  } catch (e) {
    if (errno(e) !== "ENOENT") {
      log.error(`Digest file '${path}' exists but: '${message(e)}'`);
      log.warn(NOT_REMEMBERED);
      return new DigestFileCache(opts, emptyLoad(), undefined);
    }
    try {
      createFile(path);
    } catch (ce) {
      log.error(`Could not create digest cache: ${path}: ${message(ce)}`);
      log.warn(NOT_REMEMBERED);
      return new DigestFileCache(opts, emptyLoad(), undefined);
    }
    loaded = emptyLoad();
  }

  let fd: number | undefined;
  try {
    fd = openSync(path, "a");
  } catch (e) {
    log.error(`Could not open digest cache: ${path}: ${message(e)}`);
    log.warn(NOT_REMEMBERED);
  }
  const cache = new DigestFileCache(opts, loaded, fd);
  log.info(`Using Digest Cache: '${path}' (entry count = ${cache.size})`);
  return cache;
}

class DigestFileCache implements FileReplayCache {
  readonly path: string;
  /** Digests loaded from the file, read back from it on a match. */
  readonly #rows: FileRows;
  /** Digests added since (and loaded ones kept verbatim). */
  readonly #table: DigestTable;
  /** The file, opened for appending; undefined when digests are kept in memory only. */
  #fd: number | undefined;
  #stats: FileStats;
  readonly #opts: FileReplayCacheOptions;
  #failing = false;
  /** Lines claimed in this turn of the event loop, and the promise of their write. */
  #pending: string[] = [];
  #written: Promise<void> | undefined;

  constructor(opts: FileReplayCacheOptions, loaded: LoadResult, fd: number | undefined) {
    this.#opts = opts;
    this.path = opts.path;
    this.#rows = loaded.rows;
    this.#table = loaded.table;
    this.#fd = fd;
    this.#stats = loaded.stats;
  }

  get size(): number {
    return this.#rows.size + this.#table.size;
  }

  get persistent(): boolean {
    return this.#fd !== undefined;
  }

  lookup(digest: string): Promise<ReplayEntry | undefined> {
    return Promise.resolve(this.#find(digest));
  }

  /** Digests added at run time, then those loaded from the file (read back from it). */
  #find(digest: string): ReplayEntry | undefined {
    const row = this.#table.find(digest);
    return row < 0 ? this.#rows.find(digest) : this.#table.entry(row);
  }

  /** Find and insert happen in one synchronous step, so no other claim can come between. */
  async claim(e: ReplayEntry): Promise<ReplayEntry | undefined> {
    const seen = this.#find(e.digest);
    if (seen) return seen;
    await this.add(e);
    return undefined;
  }

  add(e: ReplayEntry): Promise<void> {
    const src = ipValue(e.srcIp);
    const dst = ipValue(e.dstIp);
    if (
      this.#rows.find(e.digest) !== undefined ||
      !this.#table.insert(e.digest, e.proto, src, e.srcPort, dst, e.dstPort, e.time)
    ) {
      return Promise.resolve();
    }
    if (this.#fd === undefined) return Promise.resolve();
    this.#pending.push(
      `${e.digest} ${e.proto} ${e.srcIp} ${e.srcPort} ${e.dstIp} ${e.dstPort} ${e.time}\n`,
    );
    // Every claim of this turn of the event loop goes out in one write, right after the turn's
    // I/O callbacks (setImmediate), and each claim answers only once its line is written.
    this.#written ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#flush();
        resolve();
      }),
    );
    return this.#written;
  }

  async close(): Promise<void> {
    this.#flush();
    const fd = this.#fd;
    this.#fd = undefined;
    this.#rows.close();
    if (fd !== undefined) closeSync(fd);
  }

  /**
   * The pending lines, written before their claims answer, so a grant never waits on a packet
   * whose digest a crash could still lose. Synchronous: the lines reach the page cache in one
   * short system call, where a thread-pool write cost a round trip of the event loop (about a
   * third of a millisecond of knock-to-open on a busy machine); one write per turn of the loop
   * keeps a burst of grants to one system call.
   */
  #flush(): void {
    const lines = this.#pending;
    this.#pending = [];
    this.#written = undefined;
    const fd = this.#fd;
    if (fd === undefined || lines.length === 0) return;
    const buf = Buffer.from((this.#stats.torn ? "\n" : "") + lines.join(""));
    try {
      let off = 0;
      // writeSync may write less than asked; a write of 0 bytes would never finish.
      while (off < buf.length) {
        const n = writeSync(fd, buf, off, buf.length - off);
        if (n <= 0)
          throw new FwknopError("FWK_ERR_INTERNAL", `short write (${off} of ${buf.length} bytes)`);
        off += n;
      }
      this.#stats.torn = false;
      if (this.#failing) this.#opts.log.notice(`Writing to digest cache ${this.path} works again.`);
      this.#failing = false;
    } catch (e) {
      // The file may now end mid-line; the next write starts on a fresh one.
      this.#stats.torn = true;
      if (!this.#failing) {
        this.#opts.log.error(
          `Could not write to digest cache ${this.path}: ${message(e)} ` +
            "(digests stay remembered in memory; further write errors are not logged until a write succeeds)",
        );
      }
      this.#failing = true;
    }
  }
}

/** `--rotate-digest-cache`: upstream renames the file to `<name>-old` (replacing an old one). */
function rotate(path: string, log: Logger): void {
  log.info("Rotating digest cache file.");
  try {
    renameSync(path, `${path}-old`);
  } catch (e) {
    if (errno(e) !== "ENOENT") {
      log.error(`Unable to rename digest file: ${path} to ${path}-old: ${message(e)}`);
    }
  }
}

function createFile(path: string): void {
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    const header = Buffer.from(DIGEST_FILE_HEADER);
    let off = 0;
    // writeSync may write less than asked.
    while (off < header.length) off += writeSync(fd, header, off, header.length - off);
  } finally {
    closeSync(fd);
  }
}

function emptyLoad(): LoadResult {
  return { rows: new FileRows(0, undefined), table: new DigestTable(1024), stats: emptyStats() };
}

function ipValue(ip: string): IpValue {
  return ipv4ToNumber(ip) ?? ip;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
