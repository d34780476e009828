/**
 * The QR code `fwknop --key-gen` draws on a terminal for the Fwknop2 app. Its own module, loaded
 * with import() only for --key-gen on a terminal: start-up of every other invocation skips it.
 * uqr is a dependency-free encoder (the previous library pulled in 27 packages). It imports
 * nothing of ours, so the bundler puts it in a chunk of its own that no other code shares.
 */
import { encode } from "uqr";

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

/** `text` as a QR code for a terminal. */
export function drawQr(text: string): string {
  return renderQrTerminal(qrMatrix(text));
}
