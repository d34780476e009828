/**
 * The `SPA Field Values:` dump that `fwknop -T` and `-v` print (spec §13.5). Test suites and
 * operators parse it, so labels stay right-aligned to 15 characters and absent values read
 * `<NULL>`, exactly as the C client prints them.
 */
import {
  DIGEST_DISPLAY_NAMES,
  DIGEST_IDS,
  type DigestName,
  ENCRYPTION_MODE_IDS,
  ENCRYPTION_TYPE_DISPLAY_NAMES,
  ENCRYPTION_TYPE_IDS,
  type EncryptionMode,
  MESSAGE_TYPE_NAMES,
  type MessageTypeId,
} from "../protocol/constants.js";

export interface SpaDump {
  randomValue: string;
  username: string;
  timestamp: number;
  version: string;
  messageType: MessageTypeId;
  message: string;
  natAccess?: string | undefined;
  serverAuth?: string | undefined;
  clientTimeout: number;
  digestType: DigestName;
  hmacType?: DigestName | undefined;
  encMode: EncryptionMode;
  encoded: string;
  digest: string;
  hmac?: string | undefined;
  wire: string;
  /** GPG mode: the extra lines upstream prints (signature fields stay unset on the client). */
  gpg?: {
    signer?: string | undefined;
    recipient: string;
    homeDir?: string | undefined;
    exe: string;
  };
}

function line(label: string, value: string): string {
  return `${label.padStart(15)}: ${value}`;
}

const orNull = (v: string | undefined): string => v ?? "<NULL>";

/** The dump followed by the blank line the C client leaves after it. */
export function formatSpaDump(d: SpaDump): string {
  const hmacType = d.hmacType
    ? `${DIGEST_IDS[d.hmacType]} (${DIGEST_DISPLAY_NAMES[d.hmacType]})`
    : "0 (None)";
  const encType = d.gpg ? "gpg" : "rijndael";
  const lines = [
    "SPA Field Values:",
    "=================",
    line("Random Value", d.randomValue),
    line("Username", d.username),
    line("Timestamp", String(d.timestamp)),
    line("FKO Version", d.version),
    line("Message Type", `${d.messageType} (${MESSAGE_TYPE_NAMES[d.messageType]})`),
    line("Message String", d.message),
    line("Nat Access", orNull(d.natAccess)),
    line("Server Auth", orNull(d.serverAuth)),
    line("Client Timeout", String(d.clientTimeout)),
    line("Digest Type", `${DIGEST_IDS[d.digestType]} (${DIGEST_DISPLAY_NAMES[d.digestType]})`),
    line("HMAC Type", hmacType),
    line(
      "Encryption Type",
      `${ENCRYPTION_TYPE_IDS[encType]} (${ENCRYPTION_TYPE_DISPLAY_NAMES[encType]})`,
    ),
    line("Encryption Mode", `${ENCRYPTION_MODE_IDS[d.encMode]} (${d.encMode})`),
    ...(d.gpg
      ? [
          line("GPG signer", orNull(d.gpg.signer)),
          line("GPG recipient", d.gpg.recipient),
          line("GPG sig verify", "Yes"),
          line("GPG ignore sig", "No"),
          line("GPG sig ID", "<NULL>"),
          line("GPG sig fpr", "<NULL>"),
          line("GPG sig summary", "-1"),
          line("GPG sig status", "-1"),
          line("GPG home dir", orNull(d.gpg.homeDir)),
          line("GPG exe", d.gpg.exe),
        ]
      : []),
    line("Encoded Data", d.encoded),
    line("SPA Data Digest", d.digest),
    line("HMAC", orNull(d.hmac)),
    line("Final SPA Data", d.wire),
  ];
  return `${lines.join("\n")}\n\n`;
}

/** Parses a dump back into label → value (tests compare our dump with the C client's). */
export function parseSpaDump(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of text.split("\n")) {
    const m = /^ *([A-Za-z][A-Za-z ]*[A-Za-z]): (.*)$/.exec(l);
    if (m?.[1] && m[2] !== undefined && l.indexOf(":") === 15) out.set(m[1], m[2]);
  }
  return out;
}
