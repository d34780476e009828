/**
 * `fwknop --key-gen` (spec §4.7): random Rijndael and HMAC keys printed as `KEY_BASE64: …` and
 * `HMAC_KEY_BASE64: …` lines, exactly as upstream. On a terminal we add what provisioning needs:
 * the keys as a QR code in the text format the Fwknop2 Android app imports
 * (`KEY_BASE64:<k> HMAC_KEY_BASE64:<h>`), and the matching access.conf stanza for the server.
 * The QR drawing lives in keygen-qr.ts, loaded only then, so a knock never pays for it.
 */
import { randomBytes } from "node:crypto";
import { generateKeyPair } from "../crypto/key-gen.js";
import { ERRORS, FwknopError } from "../errors.js";
import type { DigestName, EncryptionMode } from "../protocol/constants.js";

export interface GeneratedKeys {
  keyB64: string;
  hmacKeyB64: string;
}

/** The shared generator (src/crypto/key-gen.ts), with the client's error line on refusal. */
export function generateKeys(
  hmacType: DigestName,
  keyLen: number | undefined,
  hmacKeyLen: number | undefined,
): GeneratedKeys {
  const r = generateKeyPair(
    {
      hmacType,
      ...(keyLen !== undefined ? { keyLen } : {}),
      ...(hmacKeyLen !== undefined ? { hmacKeyLen } : {}),
    },
    randomBytes,
  );
  if (!r.ok) throw new FwknopError(r.code, `fwknop: fko_key_gen: ${ERRORS[r.code]} (${r.detail})`);
  return { keyB64: r.value.key.toString("base64"), hmacKeyB64: r.value.hmacKey.toString("base64") };
}

/** Upstream's two lines, also the content of a --key-gen-file. */
export function formatKeyLines(k: GeneratedKeys): string {
  return `KEY_BASE64: ${k.keyB64}\nHMAC_KEY_BASE64: ${k.hmacKeyB64}\n`;
}

/** The QR payload the Fwknop2 Android client (and fwknop-gui's export) use. */
export function qrPayload(k: GeneratedKeys): string {
  return `KEY_BASE64:${k.keyB64} HMAC_KEY_BASE64:${k.hmacKeyB64}`;
}

/** access.conf stanza for fwknopd that accepts packets made with these keys. */
export function accessStanza(k: GeneratedKeys, hmacType: DigestName, mode: EncryptionMode): string {
  const lines = [
    ["SOURCE", "ANY"],
    ["KEY_BASE64", k.keyB64],
    ["HMAC_KEY_BASE64", k.hmacKeyB64],
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
