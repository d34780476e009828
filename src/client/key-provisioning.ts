/**
 * What `fwknop --key-gen` adds on a terminal after upstream's two key lines (crypto/key-gen.ts)
 * — what provisioning needs:
 * the keys as a QR code in the text format the Fwknop2 Android app imports
 * (`KEY_BASE64:<k> HMAC_KEY_BASE64:<h>`), and the matching access.conf stanza for the server.
 */
import QRCode from "qrcode";
import type { GeneratedKeys } from "../crypto/key-gen.js";
import type { DigestName, EncryptionMode } from "../protocol/constants.js";

/** The QR payload the Fwknop2 Android client (and fwknop-gui's export) use. */
export function qrPayload(k: GeneratedKeys): string {
  return `KEY_BASE64:${k.key.toString("base64")} HMAC_KEY_BASE64:${k.hmacKey.toString("base64")}`;
}

/** QR module matrix (true = dark), without the quiet zone. */
export function qrMatrix(text: string): boolean[][] {
  const qr = QRCode.create(text, { errorCorrectionLevel: "M" });
  const n = qr.modules.size;
  return Array.from({ length: n }, (_, r) =>
    Array.from({ length: n }, (_, c) => qr.modules.get(r, c) === 1),
  );
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

/** access.conf stanza for fwknopd that accepts packets made with these keys. */
export function accessStanza(k: GeneratedKeys, hmacType: DigestName, mode: EncryptionMode): string {
  const lines = [
    ["SOURCE", "ANY"],
    ["KEY_BASE64", k.key.toString("base64")],
    ["HMAC_KEY_BASE64", k.hmacKey.toString("base64")],
    ...(hmacType !== "sha256" ? [["HMAC_DIGEST_TYPE", hmacType]] : []),
    ...(mode !== "CBC" ? [["ENCRYPTION_MODE", mode]] : []),
  ];
  return `${lines.map(([n, v]) => `${(n as string).padEnd(20)}${v};`).join("\n")}\n`;
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
