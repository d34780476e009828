/**
 * Loading `digest.cache` at start-up: 1 MiB chunks (never the whole file at once), parsed as
 * bytes in place. Base64 SHA-256 digests (every line fwknopd 2.6.10 or we write) become
 * compact `FileRows` that point back into the file; anything else (older digest types, hand
 * edits, lines beyond 4 GiB) goes to the in-memory `DigestTable`. Nothing is dropped for its
 * age (file-cache.ts says why).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Logger } from "../../log/logger.js";
import { DigestTable, FIELD } from "./digest-table.js";
import {
  latin1,
  lineDigest,
  lineFields,
  lineText,
  scanCanonicalLine,
  scanLine,
} from "./file-line.js";
import { FileRows, MAX_ROW_OFFSET } from "./file-rows.js";

export interface FileStats {
  /** The file does not end in a newline (crash mid-append). */
  torn: boolean;
}

export function emptyStats(): FileStats {
  return { torn: false };
}

export interface LoadResult {
  /** SHA-256 digests, read back from the file on a match (they keep its descriptor open). */
  rows: FileRows;
  /** Digests kept verbatim. */
  table: DigestTable;
  stats: FileStats;
}

const CHUNK = 1 << 20;
/** A line that may continue past the buffer, one that ends there, the file's torn last line. */
const OPEN = 0;
const COMPLETE = 1;
const TORN = 2;
type LineKind = typeof OPEN | typeof COMPLETE | typeof TORN;
const NL = 10;
const CR = 13;

/**
 * The rows are sized up front from the file size and the line length seen in the first chunk
 * (lines are near-uniform), so a big cache is allocated once and rarely grows. Throws when the
 * file cannot be opened (ENOENT included).
 */
export function loadFile(path: string, log: Logger): LoadResult {
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
    const torn = size > 0 && readLastByte(fd, buf, size) !== NL;
    const rows = new FileRows(Math.ceil(estimate) + 16, fd);
    const table = new DigestTable(16);
    table.beginBulk();
    const stats: FileStats = { torn };
    let lineNo = 0;
    let pos = 0;
    // The file may still grow while we read (another daemon appending); stop at what we sized.
    // `carry` holds the start of a line split across two chunks.
    let carry: Buffer | undefined;
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
      if (n === 0) break;
      let start = 0;
      if (carry) {
        const nl = buf.indexOf(NL, 0);
        if (nl === -1 || nl >= n) {
          carry = Buffer.concat([carry, buf.subarray(0, n)]);
          pos += n;
          continue;
        }
        const joined = Buffer.concat([carry, buf.subarray(0, nl)]);
        lineAt(joined, 0, joined.length, pos - carry.length, ++lineNo, COMPLETE);
        carry = undefined;
        start = nl + 1;
      }
      while (start < n) {
        // The common line (a SHA-256 digest, ending inside this chunk) without a call;
        // every other line, including one this scan refuses, goes through lineAt.
        const at = pos + start;
        const fast = scanCanonicalLine(buf, start, n);
        if (fast >= 0 && at <= MAX_ROW_OFFSET) {
          rows.append(lineDigest, lineFields[FIELD.time] as number, at);
          lineNo++;
          start = fast + 1;
          continue;
        }
        // A line that does not end inside this chunk is finished with the next one.
        const end = lineAt(buf, start, n, at, lineNo + 1, OPEN);
        if (end >= n) {
          carry = Buffer.from(buf.subarray(start, n));
          break;
        }
        lineNo++;
        start = end + 1;
      }
      pos += n;
    }
    if (carry) lineAt(carry, 0, carry.length, pos - carry.length, lineNo + 1, TORN);
    rows.finish();
    table.finishBulk();
    // Without rows nothing reads the file later.
    if (rows.size === 0) rows.close();
    return { rows, table, stats };

    /**
     * Handles the line at `b[s..)` (up to a newline or `limit`) and returns the newline's index,
     * or `limit` when the line does not end before it; then, when the line is OPEN (it may go on
     * in the next chunk), nothing is recorded and the caller retries with the whole line.
     */
    function lineAt(
      b: Buffer,
      s: number,
      limit: number,
      offset: number,
      no: number,
      kind: LineKind,
    ): number {
      const first = b[s];
      if (first === NL) return s;
      if (first === 0x23 /* # */ || first === 0x3b /* ; */ || first === CR) {
        const nl = b.indexOf(NL, s);
        const end = nl === -1 || nl >= limit ? limit : nl;
        // A lone CR is a blank line (CRLF file); anything else after it is malformed.
        if (first !== CR || end === limit || end === s + 1) return end;
      }
      const end = scanLine(b, s, limit, false);
      if (end >= 0) {
        if (end >= limit && kind === OPEN) return limit;
        const f = lineFields;
        if (lineText.keyed && offset <= MAX_ROW_OFFSET) {
          rows.append(lineDigest, f[FIELD.time] as number, offset);
        } else {
          // Kept in memory with its addresses: scan again for them (rare lines).
          scanLine(b, s, limit, true);
          table.staged.set(f);
          table.insertOdd(
            latin1(b, lineText.digestStart, lineText.digestLength),
            lineText.src,
            lineText.dst,
          );
        }
        return end;
      }
      const nl = b.indexOf(NL, s);
      const stop = nl === -1 || nl >= limit ? limit : nl;
      if (stop >= limit && kind === OPEN) return limit;
      const text = b.toString("latin1", s, stop > s && b[stop - 1] === CR ? stop - 1 : stop);
      if (kind === TORN) {
        log.info(
          `*Skipping torn last digest file entry in ${path} at line ${no} (no trailing newline).\n - ${text}`,
        );
      } else {
        log.info(`*Skipping invalid digest file entry in ${path} at line ${no}.\n - ${text}`);
      }
      return stop;
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readLastByte(fd: number, buf: Buffer, size: number): number {
  readSync(fd, buf, 0, 1, size - 1);
  return buf[0] ?? NL;
}
