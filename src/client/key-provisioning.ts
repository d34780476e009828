/**
 * What `fwknop --key-gen` adds on a terminal after upstream's two key lines (crypto/key-gen.ts)
 * — what provisioning needs:
 * the keys as a QR code in the text format the Fwknop2 Android app imports
 * (`KEY_BASE64:<k> HMAC_KEY_BASE64:<h>`), and the matching access.conf stanza for the server.
 * The QR drawing lives in keygen-qr.ts, loaded only then, so a knock never pays for it.
 */
import type { GeneratedKeys } from "../crypto/key-gen.js";
import type { DigestName, EncryptionMode } from "../protocol/constants.js";

/** The QR payload the Fwknop2 Android client (and fwknop-gui's export) use. */
export function qrPayload(k: GeneratedKeys): string {
  return `KEY_BASE64:${k.key.toString("base64")} HMAC_KEY_BASE64:${k.hmacKey.toString("base64")}`;
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

/** What a terminal user sees after the key lines; `qrDrawing` is keygen-qr.ts's rendering. */
export function provisioningText(
  k: GeneratedKeys,
  hmacType: DigestName,
  mode: EncryptionMode,
  qrDrawing: string,
): string {
  return [
    "",
    "Scan with the Fwknop2 app (or any QR reader) to import both keys:",
    qrDrawing,
    "Server side: add this stanza to access.conf (fwknopd), set SOURCE and OPEN_PORTS to taste:",
    "",
    accessStanza(k, hmacType, mode),
  ].join("\n");
}
