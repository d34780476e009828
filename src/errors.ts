/**
 * The one registry of stable error codes. Every rejection and every operator-facing failure
 * carries one of these codes; docs/errors.md documents each (a test keeps both in sync).
 *
 * Naming: libfko names (FKO_ERROR_*) for codec failures, fwknopd-style SPA_MSG_* verdicts for
 * pipeline rejections, FWK_ERR_<AREA>_<WHAT> for our own.
 *
 * Each area keeps its codes in its own block below; add new codes to your area's block.
 */
export const ERRORS = {
  // --- codec: wire format, crypto, HMAC (libfko names) ---
  FKO_ERROR_INVALID_DATA: "Args contain invalid data",
  FKO_ERROR_INVALID_DATA_CLIENT_TIMEOUT_NEGATIVE:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_CLIENT_TIMEOUT_NEGATIVE",
  FKO_ERROR_INVALID_DATA_DECODE_MSGLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MSGLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_NON_ASCII:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_NON_ASCII",
  FKO_ERROR_INVALID_DATA_DECODE_LT_MIN_FIELDS:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_LT_MIN_FIELDS",
  FKO_ERROR_INVALID_DATA_DECODE_WRONG_NUM_FIELDS:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_WRONG_NUM_FIELDS",
  FKO_ERROR_INVALID_DATA_DECODE_RAND_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_RAND_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_USERNAME_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_USERNAME_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_USERNAME_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_USERNAME_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_USERNAME_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_USERNAME_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_USERNAME_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_USERNAME_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_TIMESTAMP_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_TIMESTAMP_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_TIMESTAMP_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_TIMESTAMP_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_TIMESTAMP_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_TIMESTAMP_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_VERSION_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_VERSION_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_VERSION_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_VERSION_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_MSGTYPE_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MSGTYPE_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_MSGTYPE_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MSGTYPE_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_MSGTYPE_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MSGTYPE_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_MESSAGE_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_ACCESS_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_ACCESS_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_NATACCESS_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_SRVAUTH_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_SRVAUTH_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_SRVAUTH_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_SRVAUTH_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_EXTRA_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_EXTRA_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_EXTRA_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_EXTRA_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_MISSING",
  FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_TOOBIG:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_TOOBIG",
  FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_DECODE_TIMEOUT_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_ENCODE_MSGLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_ENCODE_MSGLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_ENCODE_NOTBASE64:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_ENCODE_NOTBASE64",
  FKO_ERROR_INVALID_DATA_ENCRYPT_PTLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_ENCRYPT_PTLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_ENCRYPT_RESULT_MSGLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_ENCRYPT_RESULT_MSGLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_ENCRYPT_CIPHERLEN_DECODEFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_ENCRYPT_CIPHERLEN_DECODEFAIL",
  FKO_ERROR_INVALID_DATA_ENCRYPT_CIPHERLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_ENCRYPT_CIPHERLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN",
  FKO_ERROR_INVALID_DATA_FUNCS_GEN_KEYLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_FUNCS_GEN_KEYLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_FUNCS_GEN_HMACLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_FUNCS_GEN_HMACLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_FUNCS_NEW_MSGLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_FUNCS_NEW_MSGLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_HMAC_MSGLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_HMAC_MSGLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_HMAC_ENCMSGLEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_HMAC_ENCMSGLEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
  FKO_ERROR_INVALID_DATA_MESSAGE_PORT_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_MESSAGE_PORT_MISSING",
  FKO_ERROR_INVALID_DATA_MESSAGE_TYPE_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_MESSAGE_TYPE_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_MESSAGE_EMPTY:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_MESSAGE_EMPTY",
  FKO_ERROR_INVALID_DATA_MESSAGE_CMD_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_MESSAGE_CMD_MISSING",
  FKO_ERROR_INVALID_DATA_MESSAGE_ACCESS_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_MESSAGE_ACCESS_MISSING",
  FKO_ERROR_INVALID_DATA_MESSAGE_NAT_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_MESSAGE_NAT_MISSING",
  FKO_ERROR_INVALID_DATA_MESSAGE_PORTPROTO_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_MESSAGE_PORTPROTO_MISSING",
  FKO_ERROR_INVALID_DATA_RAND_LEN_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_RAND_LEN_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_SRVAUTH_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_SRVAUTH_MISSING",
  FKO_ERROR_INVALID_DATA_TIMESTAMP_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_TIMESTAMP_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_USER_MISSING:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_USER_MISSING",
  FKO_ERROR_INVALID_DATA_USER_FIRSTCHAR_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_USER_FIRSTCHAR_VALIDFAIL",
  FKO_ERROR_INVALID_DATA_USER_REMCHAR_VALIDFAIL:
    "Args contain invalid data: FKO_ERROR_INVALID_DATA_USER_REMCHAR_VALIDFAIL",
  FKO_ERROR_DATA_TOO_LARGE: "Value or Size of the data exceeded the max allowed",
  FKO_ERROR_INVALID_KEY_LEN: "Invalid key length",
  FKO_ERROR_INVALID_DIGEST_TYPE: "Invalid digest type",
  FKO_ERROR_INVALID_ALLOW_IP: "Invalid allow IP address in the SPA message data",
  FKO_ERROR_INVALID_SPA_COMMAND_MSG: "Invalid SPA command message format",
  FKO_ERROR_INVALID_SPA_ACCESS_MSG: "Invalid SPA access message format",
  FKO_ERROR_INVALID_SPA_NAT_ACCESS_MSG: "Invalid SPA nat_access message format",
  FKO_ERROR_WRONG_ENCRYPTION_TYPE: "Wrong or inappropriate encryption type for this operation",
  FKO_ERROR_DECRYPTION_SIZE: "Unexpected or invalid size for decrypted data",
  FKO_ERROR_DECRYPTION_FAILURE: "Decryption failed or decrypted data is invalid",
  FKO_ERROR_DIGEST_VERIFICATION_FAILED:
    "The computed digest did not match the digest in the spa data",
  FKO_ERROR_INVALID_HMAC_KEY_LEN: "Invalid HMAC key length",
  FKO_ERROR_GPGME_DECRYPT_FAILED: "GPGME: Decryption operation failed",
  FKO_ERROR_GPGME_DECRYPT_UNSUPPORTED_ALGORITHM:
    "GPGME: Decryption operation failed due to unsupported algorithm",
  FKO_ERROR_GPGME_BAD_PASSPHRASE: "GPGME: Bad passphrase",
  FKO_ERROR_GPGME_NO_SIGNATURE: "GPGME: No signature found",
  FKO_ERROR_GPGME_BAD_SIGNATURE: "GPGME: Bad signature",
  FKO_ERROR_GPGME_BAD_GPG_EXE: "GPGME: Unable to run the given GPG executable",
  FWK_ERR_GPG_TIMEOUT: "gpg did not finish decrypting an SPA packet in time",
  FWK_ERR_GPG_BUSY: "Too many GPG packets were waiting for gpg; this one was dropped",
  FWK_ERR_CODEC_RIJNDAEL_TOO_LONG:
    "Refusing to build a Rijndael packet of 400 or more characters (fwknopd would treat it as GPG)",

  // --- server pipeline verdicts (fwknopd names) ---
  SPA_MSG_BAD_DATA: "Data is not a valid SPA message format",
  SPA_MSG_LEN_TOO_SMALL: "Not enough data to be a valid SPA message",
  SPA_MSG_NOT_SPA_DATA: "Data is not an SPA message",
  SPA_MSG_HTTP_NOT_ENABLED: "SPA via HTTP request, but ENABLE_SPA_OVER_HTTP is not set",
  SPA_MSG_REPLAY: "Detected SPA message replay",
  SPA_MSG_TOO_OLD: "SPA message timestamp is outside the allowable window",
  SPA_MSG_ACCESS_DENIED: "SPA message did not pass access checks",
  SPA_MSG_COMMAND_ERROR: "An error occurred while executing an SPA command message",
  FWK_ERR_SPA_NO_SOURCE_MATCH: "No access stanza lists the packet's source address",
  FWK_ERR_SPA_DEST_MISMATCH: "The packet's destination is not in the stanza's DESTINATION list",
  FWK_ERR_SPA_STANZA_EXPIRED: "The access stanza has passed its ACCESS_EXPIRE/ACCESS_EXPIRE_EPOCH",
  FWK_ERR_SPA_NO_DECRYPT_MODE: "The stanza has no key for the packet's encryption type",
  FWK_ERR_SPA_GPG_SIGNER_DENIED:
    "The GPG signer is not in the stanza's GPG_FINGERPRINT_ID / GPG_REMOTE_ID list",
  FWK_ERR_SPA_INVALID_ALLOW_IP: "The allow-IP inside the SPA message is not a valid IPv4 address",
  FWK_ERR_SPA_SOURCE_REQUIRED: "The message asks for 0.0.0.0 but REQUIRE_SOURCE_ADDRESS is set",
  FWK_ERR_SPA_USERNAME_MISMATCH: "The message's username differs from REQUIRE_USERNAME",
  FWK_ERR_SPA_NAT_DISABLED: "NAT access was requested but forwarding/local NAT is not enabled",
  FWK_ERR_SPA_CMD_NOT_ALLOWED: "A command message arrived for a stanza without ENABLE_CMD_EXEC",
  FWK_ERR_SPA_PORTS_DENIED:
    "A requested proto/port is in RESTRICT_PORTS or missing from OPEN_PORTS",
  FWK_ERR_SPA_TEST_MODE: "The packet was accepted but --test mode makes no change",
  FWK_ERR_SPA_NAT_RESOLVE: "The NAT host in the message is invalid or cannot be resolved",
  FWK_ERR_FW_APPLY: "The firewall refused to add the access rules for a grant",

  // --- configuration ---
  FWK_ERR_CONFIG_FILE_MISSING:
    "A configuration, access or key file does not exist or cannot be read",
  FWK_ERR_CONFIG_FILE_TYPE:
    "A configuration path is not a regular file (or folder where one is expected)",
  FWK_ERR_CONFIG_ENTRY: "An access.conf line has a name but no value",
  FWK_ERR_CONFIG_RANGE: "An integer setting is outside its allowed range",
  FWK_ERR_CONFIG_VALUE: "A setting has a value that is not one of the accepted forms",
  FWK_ERR_CONFIG_CHAIN_SPEC: "An IPT_*_ACCESS / FIREWD_*_ACCESS chain specification is malformed",
  FWK_ERR_CONFIG_ADDRESS:
    "A SOURCE or DESTINATION list holds an entry that is not an address or network",
  FWK_ERR_CONFIG_PORTS:
    "An OPEN_PORTS or RESTRICT_PORTS list holds an entry that is not proto/port",
  FWK_ERR_CONFIG_KEY:
    "An access stanza key is missing, a placeholder, not base64, or equal to the HMAC key",
  FWK_ERR_CONFIG_STANZA: "An access stanza combines settings that cannot work together",
  FWK_ERR_CONFIG_USER: "A CMD_*_USER / CMD_*_GROUP name is not a user on this system",
  FWK_ERR_CONFIG_INCLUDE: "An %include chain is too deep or loops back on itself",
  FWK_ERR_CONFIG_NO_STANZA: "No usable SOURCE stanza was found in the access configuration",
  FWK_ERR_CONFIG_UNKNOWN:
    "A setting name given by the program (not a file) is not a known fwknopd.conf variable",

  // --- firewall ---
  FWK_ERR_FW_UNKNOWN_TYPE: "FIREWALL_TYPE names a firewall backend this fwknopd does not have",
  FWK_ERR_FW_NO_EXE: "No firewall command executable is set (FIREWALL_EXE is empty)",
  FWK_ERR_FW_INIT: "Creating the fwknop chains, jump rules or ipsets failed at startup",
  FWK_ERR_FW_COMMENT_CHECK:
    "The iptables 'comment' match needed for _exp_ expiry markers is not available",
  FWK_ERR_FW_LIST: "Listing the rules installed in the fwknop chains or ipsets failed",
  FWK_ERR_FW_CHAIN_INACTIVE: "A rule was meant for a chain that the configuration does not enable",
  FWK_ERR_FW_PF_ANCHOR: "The pf anchor PF_ANCHOR_NAME is not linked into the main pf ruleset",
  FWK_ERR_FW_IPFW_RULES_EXHAUSTED:
    "Every ipfw rule number in IPFW_START_RULE_NUM … +IPFW_MAX_RULES−1 is taken; the grant is refused",

  // --- cluster: shared replay store and grant fan-out (src/cluster/*) ---
  FWK_ERR_CLUSTER_UNAVAILABLE:
    "The shared replay store is unreachable and CLUSTER_FAIL_MODE closed refuses the knock",
  FWK_ERR_CLUSTER_LINK: "The connection to the shared Redis/Valkey store is down or failing",
  FWK_ERR_CLUSTER_FORGED: "A fan-out message failed the CLUSTER_KEY_BASE64 check and was ignored",
  FWK_ERR_CLUSTER_MESSAGE: "A correctly signed fan-out message holds a grant that is not valid",
  FWK_ERR_CLUSTER_CLIENT: "The Redis client library (ioredis) could not be loaded",

  // --- client (fwknop) ---
  FWK_ERR_CLIENT_USAGE:
    "A command-line option is unknown, ambiguous, lacks its argument or has an invalid value",
  FWK_ERR_CLIENT_RC_FILE:
    "A ~/.fwknoprc line is malformed, names an unknown variable or has a bad value",
  FWK_ERR_CLIENT_STANZA: "The ~/.fwknoprc stanza named with -n does not exist",
  FWK_ERR_CLIENT_OPTIONS: "The client options combine settings that cannot work together",
  FWK_ERR_CLIENT_KEY:
    "No usable encryption or HMAC key (missing, not base64, too long, or identical)",
  FWK_ERR_CLIENT_RESOLVE:
    "The SPA server name or the client's external IP (-R) could not be resolved",
  FWK_ERR_CLIENT_SEND: "The SPA packet could not be sent",
  FWK_ERR_CLIENT_RAW_UNAVAILABLE:
    "Raw-socket transports (udpraw, tcpraw, icmp) need a raw-socket module",
  FWK_ERR_CLIENT_GPG: "gpg could not encrypt or sign the SPA message for GPG mode",
  FWK_ERR_CLIENT_FILE:
    "A client file (rc file, .fwknop.run, key file, -B file) cannot be read or written",
  FWK_ERR_CLIENT_SSH_PROXY: "The SSH helper could not reach the service after knocking",
  FWK_ERR_CLIENT_VERIFY: "--verify: a requested TCP port did not open after the knock",

  // --- process and runtime ---
  FWK_ERR_CMD_FAILED: "An external command exited with a non-zero status",
  FWK_ERR_CMD_TIMEOUT: "An external command did not finish in time and was killed",
  FWK_ERR_CMD_SPAWN: "An external command could not be started",
  FWK_ERR_PID_RUNNING: "Another fwknopd instance is running (its PID file names a live fwknopd)",
  FWK_ERR_PID_FILE: "The PID file cannot be created, read or written",
  FWK_ERR_DAEMON_START: "The background daemon exited or timed out before reporting ready",
  FWK_ERR_INTERNAL:
    "A bug: a caller broke an internal contract (an intake started twice, a value its type excludes)",
  FWK_ERR_SERVER_USAGE:
    "An fwknopd command-line option is unknown, lacks its argument, has an invalid value or conflicts with another",
  FWK_ERR_INTAKE_BIND: "The UDP server socket could not be bound to its address and port",
  FWK_ERR_EXPLAIN_INPUT: "fwknopd --explain cannot read its input file (or stdin)",
  FWK_ERR_METRICS_BIND: "The metrics endpoint (METRICS_LISTEN) could not listen on its address",
  FWK_ERR_PCAP_TCPDUMP:
    "Live capture could not start: tcpdump is missing or refused the interface/filter",
  FWK_ERR_PCAP_CAPTURE_LOST: "Live capture ended (tcpdump exited, e.g. the interface disappeared)",
  FWK_ERR_PCAP_FILE:
    "The pcap file (--pcap-file, PCAP_FILE) is missing, unreadable or not a regular file",
  FWK_ERR_PCAP_FORMAT: "The pcap data is not classic pcap or is corrupt",
  FWK_ERR_TCP_SERVER_BIND:
    "The dummy TCP server (ENABLE_TCP_SERVER) could not listen on TCPSERV_PORT",
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERRORS;

/** A per-packet or per-input refusal: a value, never thrown. */
export interface Rejection {
  readonly ok: false;
  readonly code: ErrorCode;
  /** What failed and with which value, for logs. */
  readonly detail: string;
}

export interface Accepted<T> {
  readonly ok: true;
  readonly value: T;
}

export type Result<T> = Accepted<T> | Rejection;

export function ok<T>(value: T): Accepted<T> {
  return { ok: true, value };
}

export function reject(code: ErrorCode, detail: string): Rejection {
  return { ok: false, code, detail };
}

/** Operator-facing failures (bad config, missing tool): thrown, reported once, then exit. */
export class FwknopError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FwknopError";
    this.code = code;
  }
}
