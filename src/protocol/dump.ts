/**
 * The "SPA Field Values" dump that `fwknop -T`/`-v` and `fwknopd -v -v` print (spec §13.5):
 * labels right-aligned to 15 characters, numeric ids with their display names, `<NULL>` for
 * missing values. Test harnesses and operators parse this text, so the format is kept exact.
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
} from "./constants.js";
import type { SpaMessage } from "./message.js";

export interface SpaDump extends SpaMessage {
  digestType?: DigestName | undefined;
  /** Absent when no HMAC is used (printed as `0 (None)`). */
  hmacType?: DigestName | undefined;
  encryptionType: "rijndael" | "gpg";
  encMode: EncryptionMode;
  /** Inner message without the digest. */
  encoded?: string | undefined;
  digest?: string | undefined;
  hmac?: string | undefined;
  /** Whatever the context holds as SPA data: the client prints the wire string with its HMAC. */
  finalData?: string | undefined;
  /** GPG settings the client prints in GPG mode (signature fields are unknown to a sender). */
  gpg?: {
    signer?: string | undefined;
    recipient: string;
    homeDir?: string | undefined;
    exe: string;
  };
}

const NULL = "<NULL>";

function line(label: string, value: string): string {
  return `${label.padStart(15)}: ${value}`;
}

function digestText(d: DigestName | undefined): string {
  return d === undefined ? "0 (None)" : `${DIGEST_IDS[d]} (${DIGEST_DISPLAY_NAMES[d]})`;
}

/** The dump block, one line per field, without a trailing newline. */
export function formatSpaDump(d: SpaDump): string {
  return [
    "SPA Field Values:",
    "=================",
    line("Random Value", d.randomValue),
    line("Username", d.username),
    line("Timestamp", String(d.timestamp)),
    line("FKO Version", d.version),
    line("Message Type", `${d.messageType} (${MESSAGE_TYPE_NAMES[d.messageType]})`),
    line("Message String", d.message),
    line("Nat Access", d.natAccess ?? NULL),
    line("Server Auth", d.serverAuth ?? NULL),
    line("Client Timeout", String(d.clientTimeout ?? 0)),
    line("Digest Type", digestText(d.digestType)),
    line("HMAC Type", digestText(d.hmacType)),
    line(
      "Encryption Type",
      `${ENCRYPTION_TYPE_IDS[d.encryptionType]} (${ENCRYPTION_TYPE_DISPLAY_NAMES[d.encryptionType]})`,
    ),
    line("Encryption Mode", `${ENCRYPTION_MODE_IDS[d.encMode]} (${d.encMode})`),
    ...(d.gpg ? gpgLines(d.gpg) : []),
    line("Encoded Data", d.encoded ?? NULL),
    line("SPA Data Digest", d.digest ?? NULL),
    line("HMAC", d.hmac ?? NULL),
    line("Final SPA Data", d.finalData ?? NULL),
  ].join("\n");
}

function gpgLines(g: NonNullable<SpaDump["gpg"]>): string[] {
  return [
    line("GPG signer", g.signer ?? NULL),
    line("GPG recipient", g.recipient),
    line("GPG sig verify", "Yes"),
    line("GPG ignore sig", "No"),
    line("GPG sig ID", NULL),
    line("GPG sig fpr", NULL),
    line("GPG sig summary", "-1"),
    line("GPG sig status", "-1"),
    line("GPG home dir", g.homeDir ?? NULL),
    line("GPG exe", g.exe),
  ];
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
