/**
 * The QR code `fwknop --key-gen` draws on a terminal for the Fwknop2 app. Its own module, loaded
 * with import() only for --key-gen on a terminal: start-up of every other invocation skips it.
 * uqr is a dependency-free encoder (the previous library pulled in 27 packages).
 */
import { encode } from "uqr";
import type { DigestName, EncryptionMode } from "../protocol/constants.js";
import { accessStanza, type GeneratedKeys, qrPayload } from "./keygen.js";

/** QR module matrix (true = dark), without the quiet zone. */
export function qrMatrix(text: string): boolean[][] {
  // border 0: the quiet zone is drawn by renderQrTerminal, on an explicit white background.
  return encode(text, { ecc: "M", border: 0 }).data;
}

const QUIET = 2;
const ANSI_ON = "\x1b[30;47m";
const ANSI_OFF = "\x1b[0m";

/**
 * Renders a module matrix with half-block characters (two module rows per text row), black on
 * an explicit white background so it scans on dark terminals too.
 */
export function renderQrTerminal(matrix: readonly (readonly boolean[])[]): string {
  const n = matrix.length;
  const dark = (r: number, c: number) =>
    r >= QUIET && r < n + QUIET && c >= QUIET && c < n + QUIET
      ? (matrix[r - QUIET]?.[c - QUIET] ?? false)
      : false;
  const size = n + 2 * QUIET;
  const rows: string[] = [];
  for (let r = 0; r < size; r += 2) {
    let line = "";
    for (let c = 0; c < size; c++) {
      const top = dark(r, c);
      const bottom = r + 1 < size && dark(r + 1, c);
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    rows.push(`${ANSI_ON}${line}${ANSI_OFF}`);
  }
  return `${rows.join("\n")}\n`;
}

/** What a terminal user sees after the key lines. */
export function provisioningText(
  k: GeneratedKeys,
  hmacType: DigestName,
  mode: EncryptionMode,
): string {
  return [
    "",
    "Scan with the Fwknop2 app (or any QR reader) to import both keys:",
    renderQrTerminal(qrMatrix(qrPayload(k))),
    "Server side: add this stanza to access.conf (fwknopd), set SOURCE and OPEN_PORTS to taste:",
    "",
    accessStanza(k, hmacType, mode),
  ].join("\n");
}
