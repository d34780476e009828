/**
 * The -v lines 2.6.10 logs for a packet that decoded under a stanza: `[ip] (stanza #N) SPA
 * Decode (res=0):` and the `SPA Field Values` dump (the same dump as the client's -T). The
 * received HMAC is shown when the packet carried one (as 2.6.10 does), and every text field the
 * sender chose is escaped for the log: a newline in a command message must not forge log lines.
 */
import type { AccessStanza } from "../config/access-stanza.js";
import { hmacLength } from "../crypto/hmac.js";
import { escapeLogText } from "../log/escape.js";
import { formatSpaDump } from "../protocol/dump.js";
import type { DecodedSpa } from "../protocol/message.js";

export function decodeDump(
  srcIp: string,
  stanza: AccessStanza,
  message: DecodedSpa,
  encryption: "rijndael" | "gpg",
  wire: string,
): string {
  // With an HMAC key the packet authenticated with one: it is the wire string's tail.
  const hmacType = stanza.hmacKey ? stanza.hmacType : undefined;
  const hmac = hmacType ? wire.slice(wire.length - hmacLength(hmacType)) : undefined;
  const dump = formatSpaDump({
    ...message,
    username: escapeLogText(message.username),
    message: escapeLogText(message.message),
    ...(message.natAccess !== undefined ? { natAccess: escapeLogText(message.natAccess) } : {}),
    ...(message.serverAuth !== undefined ? { serverAuth: escapeLogText(message.serverAuth) } : {}),
    version: escapeLogText(message.version),
    hmacType,
    hmac,
    encryptionType: encryption,
    encMode: encryption === "gpg" ? "Asymmetric" : stanza.encMode,
    finalData: wire,
  });
  return `[${srcIp}] (stanza #${stanza.index}) SPA Decode (res=0):\n${dump}`;
}
