/**
 * The upstream-compatible `digest.cache` replay cache (spec §12.1).
 *
 * File format (fwknopd 2.6.10): a `# <digest> <proto> ...` header line, then one line per
 * accepted packet: `<digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>`.
 * Files written by the C daemon load here and ours load there.
 *
 * Where we go beyond upstream: a torn last line (crash mid-append) is tolerated and the next
 * append starts on a fresh line; when aging is on, entries that can no longer pass the age
 * check are dropped and the file is compacted atomically once mostly stale; when the file
 * cannot be used, replay protection continues in memory (upstream switches it off).
 */
import {
  closeSync,
  constants as fsc,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from "node:fs";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import type { Logger } from "../../log/logger.js";
import {
  DIGEST_CHARS,
  DigestTable,
  decodeDigest,
  FIELD,
  type IpValue,
  ipv4ToNumber,
} from "./digest-table.js";
import type { ReplayCache, ReplayEntry } from "./replay-cache.js";

export const DIGEST_FILE_HEADER =
  "# <digest> <proto> <src_ip> <src_port> <dst_ip> <dst_port> <time>\n";

/** Upstream's warning when the file cannot be used; operators know it. */
const NOT_REMEMBERED = "Error opening digest cache file. Incoming digests will not be remembered.";

export interface FileReplayCacheOptions {
  path: string;
  /** `--rotate-digest-cache`: rename the file to `<path>-old` and start a fresh one. */
  rotate?: boolean;
  /**
   * MAX_SPA_PACKET_AGE when packet aging is on; leave unset when it is off (then nothing is
   * ever dropped). Entries are kept for twice this long: the first copy of a packet may carry
   * a timestamp up to MAX_SPA_PACKET_AGE ahead of the server's clock, and a replay of it then
   * still passes the age check until that timestamp is MAX_SPA_PACKET_AGE old. Older entries
   * are dropped at load and by compaction.
   */
  maxAgeSeconds?: number;
  /** Unix seconds. */
  now: () => number;
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
  const cutoff = opts.maxAgeSeconds === undefined ? 0 : opts.now() - 2 * opts.maxAgeSeconds;

  let loaded: LoadResult;
  try {
    loaded = loadFile(path, cutoff, log);
  } catch (e) {
    if (errno(e) !== "ENOENT") {
      log.error(`Digest file '${path}' exists but: '${message(e)}'`);
      log.warn(NOT_REMEMBERED);
      return new DigestFileCache(opts, new DigestTable(1024), undefined, emptyStats());
    }
    try {
      createFile(path);
    } catch (ce) {
      log.error(`Could not create digest cache: ${path}: ${message(ce)}`);
      log.warn(NOT_REMEMBERED);
      return new DigestFileCache(opts, new DigestTable(1024), undefined, emptyStats());
    }
    loaded = { table: new DigestTable(1024), stats: emptyStats() };
  }

  let handle: FileHandle | undefined;
  try {
    handle = await open(path, "a");
  } catch (e) {
    log.error(`Could not open digest cache: ${path}: ${message(e)}`);
    log.warn(NOT_REMEMBERED);
  }
  const cache = new DigestFileCache(opts, loaded.table, handle, loaded.stats);
  log.info(`Using Digest Cache: '${path}' (entry count = ${loaded.table.size})`);
  if (loaded.stats.stale > 0) {
    log.info(`Dropped ${loaded.stats.stale} digest cache entries older than the aging window.`);
  }
  cache.compactIfMostlyStale();
  return cache;
}

/**
 * The digests of `path` for reading only (`fwknopd --explain`): `claim` answers like `lookup`
 * and nothing is ever recorded or written; a missing or unreadable file is an empty cache.
 */
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

interface FileStats {
  /** Entry lines the file holds (live, stale, duplicate or malformed). */
  lines: number;
  stale: number;
  /** The file does not end in a newline (crash mid-append). */
  torn: boolean;
}

function emptyStats(): FileStats {
  return { lines: 0, stale: 0, torn: false };
}

class DigestFileCache implements FileReplayCache {
  readonly path: string;
  readonly #table: DigestTable;
  #handle: FileHandle | undefined;
  #stats: FileStats;
  readonly #opts: FileReplayCacheOptions;
  /** File operations run one at a time, in call order. */
  #tail: Promise<void> = Promise.resolve();
  /** Lines waiting for the next write, and that write's completion. */
  #batch: { lines: string[]; done: Promise<void> } | undefined;
  #addsSinceSweep = 0;
  #sweepEvery = 1024;
  #failing = false;
  #rewriting = false;

  constructor(
    opts: FileReplayCacheOptions,
    table: DigestTable,
    handle: FileHandle | undefined,
    stats: FileStats,
  ) {
    this.#opts = opts;
    this.path = opts.path;
    this.#table = table;
    this.#handle = handle;
    this.#stats = stats;
  }

  get size(): number {
    return this.#table.size;
  }

  get persistent(): boolean {
    return this.#handle !== undefined;
  }

  lookup(digest: string): Promise<ReplayEntry | undefined> {
    const row = this.#table.find(digest);
    return Promise.resolve(row < 0 ? undefined : this.#table.entry(row));
  }

  /** Find and insert happen in one synchronous step, so no other claim can come between. */
  async claim(e: ReplayEntry): Promise<ReplayEntry | undefined> {
    const row = this.#table.find(e.digest);
    if (row >= 0) return this.#table.entry(row);
    await this.add(e);
    return undefined;
  }

  add(e: ReplayEntry): Promise<void> {
    const src = ipValue(e.srcIp);
    const dst = ipValue(e.dstIp);
    if (!this.#table.insert(e.digest, e.proto, src, e.srcPort, dst, e.dstPort, e.time)) {
      return Promise.resolve();
    }
    if (!this.#handle) return Promise.resolve();
    const line = `${e.digest} ${e.proto} ${e.srcIp} ${e.srcPort} ${e.dstIp} ${e.dstPort} ${e.time}\n`;
    if (!this.#batch) {
      const lines: string[] = [];
      this.#batch = { lines, done: this.#enqueue(() => this.#flush(lines)) };
    }
    this.#batch.lines.push(line);
    const done = this.#batch.done;
    this.#stats.lines++;
    if (this.#opts.maxAgeSeconds !== undefined) {
      this.#addsSinceSweep++;
      if (this.#addsSinceSweep >= this.#sweepEvery) this.compactIfMostlyStale();
    }
    return done;
  }

  /**
   * With aging on, rewrites the file (and rebuilds memory) with only the live entries once the
   * stale ones outnumber them; the check runs after a number of adds proportional to the size,
   * so its linear cost is amortised to O(1) per add.
   */
  compactIfMostlyStale(): void {
    this.#addsSinceSweep = 0;
    this.#sweepEvery = Math.max(1024, this.#table.size);
    if (this.#opts.maxAgeSeconds === undefined) return;
    const cutoff = this.#opts.now() - 2 * this.#opts.maxAgeSeconds;
    // A rewrite in progress reads rows by number; compacting under it would shift them.
    if (this.#rewriting) return;
    const live = this.#table.countSince(cutoff);
    const dead = this.#stats.lines - live;
    if (dead < 1024 || dead <= live) return;
    this.#table.dropOlderThan(cutoff);
    // A batch already queued still goes to the old file (so nothing is lost if the rewrite
    // fails); lines added from now on queue behind the rewrite and land in the new file.
    this.#batch = undefined;
    this.#stats = { lines: this.#table.size, stale: 0, torn: this.#stats.torn };
    if (!this.#handle) return;
    this.#rewriting = true;
    const rows = this.#table.size;
    void this.#enqueue(() => this.#rewrite(rows, dead)).finally(() => {
      this.#rewriting = false;
    });
  }

  async close(): Promise<void> {
    await this.#tail;
    const h = this.#handle;
    this.#handle = undefined;
    await h?.close();
  }

  #enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(job);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #flush(lines: string[]): Promise<void> {
    if (this.#batch?.lines === lines) this.#batch = undefined;
    const h = this.#handle;
    if (!h || lines.length === 0) return;
    const text = (this.#stats.torn ? "\n" : "") + lines.join("");
    const buf = Buffer.from(text);
    try {
      const { bytesWritten } = await h.write(buf, 0, buf.length);
      if (bytesWritten !== buf.length)
        throw new Error(`short write (${bytesWritten} of ${buf.length} bytes)`);
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

  /** Atomically replaces the file with the header and rows [0, rows) of the table. */
  async #rewrite(rows: number, dropped: number): Promise<void> {
    const table = this.#table;
    const tmp = `${this.path}.compact-${process.pid}`;
    const log = this.#opts.log;
    let out: FileHandle | undefined;
    try {
      out = await open(tmp, "w", 0o600);
      await out.write(DIGEST_FILE_HEADER);
      const chunk: string[] = [];
      for (let r = 0; r < rows; r++) {
        chunk.push(table.line(r));
        if (chunk.length === 8192 || r === rows - 1) {
          await out.write(`${chunk.join("\n")}\n`);
          chunk.length = 0;
        }
      }
      await out.sync();
      await out.close();
      out = undefined;
      await rename(tmp, this.path);
      const old = this.#handle;
      this.#handle = await open(this.path, "a");
      this.#stats.torn = false;
      await old?.close();
      log.info(
        `Compacted digest cache ${this.path}: dropped ${dropped} aged entries, kept ${rows}.`,
      );
    } catch (e) {
      // The old file is still complete; only the space is not reclaimed.
      await out?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      log.error(`Could not compact digest cache ${this.path}: ${message(e)}`);
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

function readLastByte(fd: number, buf: Buffer, size: number): number {
  readSync(fd, buf, 0, 1, size - 1);
  return buf[0] ?? NL;
}

interface LoadResult {
  table: DigestTable;
  stats: FileStats;
}

const CHUNK = 1 << 20;
const NL = 10;
const SPACE = 32;
const TAB = 9;
const CR = 13;

/**
 * Reads the file in 1 MiB chunks (never the whole file at once) and parses bytes in place.
 * The table is sized up front from the file size and the line length seen in the first chunk
 * (lines are near-uniform), so a big cache is allocated once and rarely grows.
 */
function loadFile(path: string, cutoff: number, log: Logger): LoadResult {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    const size = fstatSync(fd).size;
    const first = readSync(fd, buf, 0, CHUNK, 0);
    let sampleLines = 0;
    for (let i = buf.indexOf(NL, 0); i !== -1 && i < first; i = buf.indexOf(NL, i + 1)) {
      sampleLines++;
    }
    const estimate = first >= size ? sampleLines : (size / first) * sampleLines * 1.03;
    const lastByte = size === 0 ? NL : readLastByte(fd, buf, size);
    const torn = lastByte !== NL;
    const table = new DigestTable(Math.ceil(estimate) + 1024);
    table.beginBulk();
    const stats: FileStats = { lines: 0, stale: 0, torn };
    let lineNo = 0;
    let pos = 0;
    // The file may still grow while we read (another daemon appending); stop at what we sized.
    // `carry` holds the start of a line split across two chunks.
    let carry: Buffer | undefined;
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
      if (n === 0) break;
      pos += n;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(NL, start);
        if (nl === -1 || nl >= n) break;
        lineNo++;
        if (carry) {
          const joined = Buffer.concat([carry, buf.subarray(start, nl)]);
          carry = undefined;
          handleLine(joined, 0, joined.length, lineNo, false);
        } else {
          handleLine(buf, start, nl, lineNo, false);
        }
        start = nl + 1;
      }
      if (start < n) {
        const rest = buf.subarray(start, n);
        carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
      }
    }
    if (carry) handleLine(carry, 0, carry.length, lineNo + 1, true);
    table.finishBulk();
    return { table, stats };

    function handleLine(b: Buffer, s: number, e: number, no: number, last: boolean): void {
      const end = e > s && b[e - 1] === CR ? e - 1 : e;
      const first = b[s];
      if (end === s || first === 0x23 /* # */ || first === 0x3b /* ; */) return;
      stats.lines++;
      const r = parseInto(table, cutoff, b, s, end);
      if (r === "stale") stats.stale++;
      if (r !== "bad") return;
      const text = b.toString("latin1", s, end);
      if (last) {
        log.info(
          `*Skipping torn last digest file entry in ${path} at line ${no} (no trailing newline).\n - ${text}`,
        );
      } else {
        log.info(`*Skipping invalid digest file entry in ${path} at line ${no}.\n - ${text}`);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Byte-level parser of one entry line into the table: no per-line strings or arrays, because it
 * runs a million times when a big cache loads. The scanners write numbers straight into the
 * table's staged row and share `cursor` (the parse position), so nothing is allocated or boxed.
 */
function parseInto(
  table: DigestTable,
  cutoff: number,
  b: Uint8Array,
  start: number,
  end: number,
): "ok" | "dup" | "stale" | "bad" {
  cursor = skipSpace(b, start, end);
  const d0 = cursor;
  while (cursor < end && b[cursor] !== SPACE && b[cursor] !== TAB) cursor++;
  const dLen = cursor - d0;
  if (dLen === 0 || dLen > 64) return "bad";
  const f = table.staged;
  if (!scanNumber(b, end, 255, f, FIELD.proto)) return "bad";
  const src = scanIp(b, end, f, FIELD.src);
  if (src === IP_BAD) return "bad";
  const srcText = src === IP_TEXT ? ipText : undefined;
  if (!scanNumber(b, end, 65535, f, FIELD.srcPort)) return "bad";
  const dst = scanIp(b, end, f, FIELD.dst);
  if (dst === IP_BAD) return "bad";
  const dstText = dst === IP_TEXT ? ipText : undefined;
  if (!scanNumber(b, end, 65535, f, FIELD.dstPort)) return "bad";
  if (!scanNumber(b, end, 0xffffffff, f, FIELD.time)) return "bad";
  if ((f[FIELD.time] as number) < cutoff) return "stale";
  const added =
    dLen === DIGEST_CHARS && decodeDigest(b, d0, table.scratch)
      ? table.insertStaged(srcText, dstText)
      : table.insertOdd(latin1(b, d0, dLen), srcText, dstText);
  return added ? "ok" : "dup";
}

/** Parse position shared by parseInto and the scanners. */
let cursor = 0;
/** The last address scanIp kept verbatim. */
let ipText = "";
const IP_QUAD = 0;
const IP_TEXT = 1;
const IP_BAD = 2;

function skipSpace(b: Uint8Array, p: number, end: number): number {
  while (p < end && (b[p] === SPACE || b[p] === TAB)) p++;
  return p;
}

/** A decimal field up to `max`, ending at whitespace or the line end, into `out[at]`. */
function scanNumber(
  b: Uint8Array,
  end: number,
  max: number,
  out: Uint32Array,
  at: number,
): boolean {
  let p = skipSpace(b, cursor, end);
  const s = p;
  let v = 0;
  for (; p < end; p++) {
    const c = b[p] as number;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    if (v > max) return false;
  }
  cursor = p;
  if (p === s || (p < end && b[p] !== SPACE && b[p] !== TAB)) return false;
  out[at] = v;
  return true;
}

/**
 * A dotted quad into `out[at]` (IP_QUAD); any other token up to 45 characters (IPv6) into
 * `ipText` (IP_TEXT); IP_BAD when empty or longer.
 */
function scanIp(b: Uint8Array, end: number, out: Uint32Array, at: number): number {
  let p = skipSpace(b, cursor, end);
  const s = p;
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let quad = true;
  for (; p < end; p++) {
    const c = b[p] as number;
    if (c === SPACE || c === TAB) break;
    if (c >= 0x30 && c <= 0x39) {
      // A leading zero ("010") would not survive the round trip through a number.
      if (digits === 1 && octet === 0) quad = false;
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) quad = false;
    } else if (c === 0x2e && digits > 0 && dots < 3) {
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      quad = false;
    }
  }
  cursor = p;
  const len = p - s;
  if (len === 0 || len > 45) return IP_BAD;
  if (quad && dots === 3 && digits > 0) {
    out[at] = n * 256 + octet;
    return IP_QUAD;
  }
  out[at] = 0;
  ipText = latin1(b, s, len);
  return IP_TEXT;
}

function latin1(b: Uint8Array, start: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, len).toString("latin1");
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
