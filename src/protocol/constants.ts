/**
 * Wire-protocol constants of libfko 2.6.10: message types, digest and encryption ids with the
 * names fwknop prints, and the size limits of lib/fko_limits.h (spec §2.2, §3.2, §3.7, §4.1).
 */

import type { DigestName, EncryptionMode, SymmetricMode } from "../crypto/algorithms.js";
import { RIJNDAEL_LIMITS } from "../crypto/algorithms.js";

export type { DigestName, EncryptionMode, SymmetricMode } from "../crypto/algorithms.js";
export { B64_RIJNDAEL_SALT } from "../crypto/algorithms.js";

/** SPA message types (`fko_message_type_t`), as carried in field 5 of the inner message. */
export const MessageType = {
  COMMAND: 0,
  ACCESS: 1,
  NAT_ACCESS: 2,
  CLIENT_TIMEOUT_ACCESS: 3,
  CLIENT_TIMEOUT_NAT_ACCESS: 4,
  LOCAL_NAT_ACCESS: 5,
  CLIENT_TIMEOUT_LOCAL_NAT_ACCESS: 6,
} as const;
export type MessageTypeId = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** The names `fwknop -T` / fwknopd print after the number, e.g. `1 (Access msg)`. */
export const MESSAGE_TYPE_NAMES: Readonly<Record<MessageTypeId, string>> = {
  0: "Command msg",
  1: "Access msg",
  2: "NAT access msg",
  3: "Client timeout access msg",
  4: "Client timeout NAT access msg",
  5: "Local NAT access msg",
  6: "Client timeout local NAT access msg",
};

export function isMessageTypeId(n: number): n is MessageTypeId {
  return Number.isInteger(n) && n >= 0 && n <= 6;
}

/** NAT through the server to another host (ENABLE_*_FORWARDING): types 2 and 4. */
export function isForwardNatType(t: number): boolean {
  return t === MessageType.NAT_ACCESS || t === MessageType.CLIENT_TIMEOUT_NAT_ACCESS;
}

/** NAT to a port of the server itself (ENABLE_*_LOCAL_NAT): types 5 and 6. */
export function isLocalNatType(t: number): boolean {
  return t === MessageType.LOCAL_NAT_ACCESS || t === MessageType.CLIENT_TIMEOUT_LOCAL_NAT_ACCESS;
}

/** Types that ask for NAT and carry a NAT access field (field 7). */
export function hasNatField(t: number): boolean {
  return isForwardNatType(t) || isLocalNatType(t);
}

/** Types that carry a client timeout field (field 9). */
export function hasTimeoutField(t: MessageTypeId): boolean {
  return t === 3 || t === 4 || t === 6;
}

export const DIGEST_NAMES: readonly DigestName[] = [
  "md5",
  "sha1",
  "sha256",
  "sha384",
  "sha512",
  "sha3_256",
  "sha3_512",
];

/** Upstream numeric ids (`fko_digest_type_t` and `fko_hmac_type_t` share them). */
export const DIGEST_IDS: Readonly<Record<DigestName, number>> = {
  md5: 1,
  sha1: 2,
  sha256: 3,
  sha384: 4,
  sha512: 5,
  sha3_256: 6,
  sha3_512: 7,
};

/** Display names as fwknop prints them (`3 (SHA256)`). */
export const DIGEST_DISPLAY_NAMES: Readonly<Record<DigestName, string>> = {
  md5: "MD5",
  sha1: "SHA1",
  sha256: "SHA256",
  sha384: "SHA384",
  sha512: "SHA512",
  sha3_256: "SHA3_256",
  sha3_512: "SHA3_512",
};

/** Config and command-line digest names; fwknop compares them case-insensitively. */
export function parseDigestName(s: string): DigestName | undefined {
  const lower = s.toLowerCase();
  return DIGEST_NAMES.find((d) => d === lower);
}

export const SYMMETRIC_MODES: readonly SymmetricMode[] = [
  "CBC",
  "ECB",
  "CFB",
  "OFB",
  "CTR",
  "legacy",
];

/** Upstream numeric ids (`fko_encryption_mode_t`); 4 (PCBC) exists upstream but is unsupported. */
export const ENCRYPTION_MODE_IDS: Readonly<Record<EncryptionMode, number>> = {
  ECB: 1,
  CBC: 2,
  CFB: 3,
  OFB: 5,
  CTR: 6,
  Asymmetric: 7,
  legacy: 8,
};

const MODE_NAMES: readonly EncryptionMode[] = [
  "CBC",
  "ECB",
  "CFB",
  "OFB",
  "CTR",
  "Asymmetric",
  "legacy",
];

/** `ENCRYPTION_MODE` / `-M` values, case-insensitive; `PCBC` is refused as libfko does. */
export function parseEncryptionMode(s: string): EncryptionMode | undefined {
  const lower = s.toLowerCase();
  return MODE_NAMES.find((m) => m.toLowerCase() === lower);
}

/** `fko_encryption_type_t`: 1 Rijndael, 2 GPG; printed as `1 (Rijndael)`. */
export const ENCRYPTION_TYPE_IDS = { rijndael: 1, gpg: 2 } as const;
export const ENCRYPTION_TYPE_DISPLAY_NAMES = { rijndael: "Rijndael", gpg: "GPG" } as const;

/** Size limits (lib/fko_limits.h, common headers, fwknopd). "Max" sizes are exclusive. */
export const LIMITS = {
  MAX_SPA_CMD_LEN: 1400,
  MAX_SPA_USERNAME_SIZE: 64,
  MAX_SPA_MESSAGE_SIZE: 256,
  MAX_SPA_NAT_ACCESS_SIZE: 128,
  MAX_SPA_SERVER_AUTH_SIZE: 64,
  MAX_SPA_TIMESTAMP_SIZE: 12,
  MAX_SPA_VERSION_SIZE: 8,
  MAX_SPA_MESSAGE_TYPE_SIZE: 2,
  MIN_SPA_FIELDS: 6,
  MAX_SPA_FIELDS: 9,
  /** At or above this many characters a ciphertext text is taken to be GPG (§4.6). */
  MIN_GNUPG_MSG_SIZE: 400,
  MAX_IPV4_STR_LEN: 16,
  MIN_IPV4_STR_LEN: 7,
  MAX_PROTO_STR_LEN: 4,
  MAX_PORT_STR_LEN: 5,
  MAX_PORT: 65535,
  MAX_HOSTNAME_LEN: 70,
  ...RIJNDAEL_LIMITS,
  /** Largest hash block size; libfko refuses longer HMAC keys. */
  MAX_DIGEST_BLOCK_LEN: 136,
  /** Largest client-side key (encryption or HMAC) after base64 decoding. */
  MAX_KEY_LEN: 128,
  /** Largest client timeout the decoder accepts. */
  MAX_CLIENT_TIMEOUT: 65536,
  /** fwknopd drops payloads shorter than this before any processing. */
  MIN_SPA_DATA_SIZE: 140,
  /** fwknopd drops payloads longer than this. */
  MAX_SPA_PACKET_LEN: 1500,
} as const;

/** The protocol version libfko writes into every message. */
export const FKO_PROTOCOL_VERSION = "3.0.0";

/** Base64 start of a binary OpenPGP message (old-format PKESK header), cut off the wire. */
export const B64_GPG_PREFIX = "hQ";
