/** fwknopd --key-gen / --key-gen-file: the same output as the C daemon. */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { formatKeyLines, generateKeyPair } from "../crypto/key-gen.js";
import { parseDigestName } from "../protocol/constants.js";

export interface KeyGenRequest {
  file?: string;
  keyLen?: number;
  hmacKeyLen?: number;
  hmacDigestType?: string;
}

export function runKeyGen(req: KeyGenRequest): number {
  const hmacType =
    req.hmacDigestType === undefined ? "sha256" : parseDigestName(req.hmacDigestType);
  if (!hmacType) {
    process.stderr.write(`fwknopd: unknown HMAC digest type '${req.hmacDigestType}'\n`);
    return 1;
  }
  const keys = generateKeyPair(
    {
      hmacType,
      ...(req.keyLen !== undefined ? { keyLen: req.keyLen } : {}),
      ...(req.hmacKeyLen !== undefined ? { hmacKeyLen: req.hmacKeyLen } : {}),
    },
    randomBytes,
  );
  if (!keys.ok) {
    process.stderr.write(`fwknopd: fko_key_gen: ${keys.detail} [${keys.code}]\n`);
    return 1;
  }
  const text = formatKeyLines(keys.value);
  if (req.file) {
    writeFileSync(req.file, text, { mode: 0o600 });
    process.stdout.write(`[+] Wrote Rijndael and HMAC keys to: ${req.file}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
