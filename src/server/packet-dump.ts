/**
 * The -v lines 2.6.10 logs for a packet that decoded under a stanza: `[ip] (stanza #N) SPA
 * Decode (res=0):` and the `SPA Field Values` dump (the same dump as the client's -T).
 */
import type { AccessStanza } from "../config/access-stanza.js";
import { formatSpaDump } from "../protocol/dump.js";
import type { DecodedSpa } from "../protocol/message.js";

export function decodeDump(
  srcIp: string,
  stanza: AccessStanza,
  message: DecodedSpa,
  encryption: "rijndael" | "gpg",
  wire: string,
): string {
  const dump = formatSpaDump({
    ...message,
    hmacType: stanza.hmacKey ? stanza.hmacType : undefined,
    encryptionType: encryption,
    encMode: encryption === "gpg" ? "Asymmetric" : stanza.encMode,
    finalData: wire,
  });
  return `[${srcIp}] (stanza #${stanza.index}) SPA Decode (res=0):\n${dump}`;
}
