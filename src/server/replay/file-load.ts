/**
 * Loading a `digest.cache` file (file-cache.ts) into a DigestTable: chunked reads and an
 * allocation-free byte parser, because a big cache holds a million lines. Stale entries (older
 * than the aging cutoff) and duplicates are counted and skipped; a torn last line is noted.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Logger } from "../../log/logger.js";
import { DIGEST_CHARS, DigestTable, decodeDigest, FIELD } from "./digest-table.js";

export interface FileStats {
  /** Entry lines the file holds (live, stale, duplicate or malformed). */
  lines: number;
  stale: number;
  /** The file does not end in a newline (crash mid-append). */
  torn: boolean;
}

export function emptyStats(): FileStats {
  return { lines: 0, stale: 0, torn: false };
}

function readLastByte(fd: number, buf: Buffer, size: number): number {
  readSync(fd, buf, 0, 1, size - 1);
  return buf[0] ?? NL;
}

export interface LoadResult {
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
export function loadFile(path: string, cutoff: number, log: Logger): LoadResult {
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
