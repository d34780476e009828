/**
 * Field validators shared by the encoder, the decoder, the client and the server (spec §3.3).
 * They reproduce libfko's checks byte for byte, including its quirks: only `tcp`/`udp` specs
 * pass, IPv4 text goes through an `inet_aton`-equivalent parse (octal octets allowed), NAT hosts
 * may be names. Inputs are strings whose characters are bytes (latin1 view of the raw field).
 */
import { isIPv6 } from "node:net";
import { type ErrorCode, ok, type Result, reject } from "../errors.js";
import { inetAtonDotted } from "./address-text.js";
import { LIMITS } from "./constants.js";

/** Bytes of a JS string as the wire carries them (UTF-8), viewed one character per byte. */
export function byteView(s: string): string {
  return Buffer.from(s, "utf8").toString("latin1");
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const LONG_MAX = 2n ** 63n - 1n;

/**
 * libfko `strtol_wrapper(str, min, max)`: C `strtol` base 10 (leading whitespace and a sign
 * accepted, parsing stops at the first non-digit, no digits ⇒ 0), an out-of-range `long` is an
 * error, and the result is then narrowed to a 32-bit `int` before the range check
 * (`max < 0` means no upper bound). Returns undefined on error.
 */
export function cStrtol(text: string, min: number, max: number): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(text);
  const digits = m?.[2] ?? "";
  let big = digits === "" ? 0n : BigInt(digits);
  if (m?.[1] === "-") big = -big;
  if (big > LONG_MAX || big < -LONG_MAX - 1n) return undefined;
  const val = Number(BigInt.asIntN(32, big));
  if (val < min) return undefined;
  if (max >= 0 && val > max) return undefined;
  return val;
}

/**
 * libfko `is_valid_ipv4_addr`: 7–16 characters, digits and exactly three dots, then `inet_aton`
 * (16 characters can pass only with octal octets such as `0255.0255.0255.1`).
 */
export function isValidIpv4Text(ip: string): boolean {
  if (ip.length > LIMITS.MAX_IPV4_STR_LEN || ip.length < LIMITS.MIN_IPV4_STR_LEN) return false;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) dots++;
    else if (!isDigit(c)) return false;
  }
  return dots === 3 && inetAtonDotted(ip) !== undefined;
}

/**
 * An IPv6 allow-IP: our extension of the 3.0.0 grammar, so that `fwknop -a <IPv6>` can ask an
 * fwknop-ts server for access for an IPv6 address. The message field is base64, so the colons
 * never meet the field separator. libfko (fwknopd 2.6.10) refuses such messages.
 */
export function isAllowIpv6(ip: string): boolean {
  // A zone id (fe80::1%eth0) means nothing to a firewall rule on the server.
  return ip.length <= 39 && !ip.includes("%") && isIPv6(ip);
}

/** The allow-IP at the start of an access or command message: IPv4 of at most 15 characters. */
function haveAllowIp(msg: string): boolean {
  const comma = msg.indexOf(",");
  const ip = comma < 0 ? msg : msg.slice(0, comma);
  return (ip.length < LIMITS.MAX_IPV4_STR_LEN && isValidIpv4Text(ip)) || isAllowIpv6(ip);
}

/** A port: 1–5 digits, value 1–65535, ending at a comma or the end of the text. */
function havePort(s: string): ErrorCode | undefined {
  if (s.length >= LIMITS.MAX_SPA_MESSAGE_SIZE) return "FKO_ERROR_INVALID_DATA_MESSAGE_PORT_MISSING";
  if (!isDigit(s.charCodeAt(0))) return "FKO_ERROR_INVALID_SPA_ACCESS_MSG";
  let end = 0;
  while (end < s.length && s[end] !== ",") {
    if (!isDigit(s.charCodeAt(end)) || end + 1 > LIMITS.MAX_PORT_STR_LEN) {
      return "FKO_ERROR_INVALID_SPA_ACCESS_MSG";
    }
    end++;
  }
  return cStrtol(s.slice(0, end), 1, LIMITS.MAX_PORT) === undefined
    ? "FKO_ERROR_INVALID_SPA_ACCESS_MSG"
    : undefined;
}

/**
 * One `proto/port` spec. The prefix test admits icmp and none, but the `/` must sit within the
 * first four characters, so only tcp/udp (exactly three letters) can pass.
 */
function validateProtoPortSpec(spec: string): ErrorCode | undefined {
  if (spec.length >= LIMITS.MAX_SPA_MESSAGE_SIZE) {
    return "FKO_ERROR_INVALID_DATA_MESSAGE_PORTPROTO_MISSING";
  }
  const known = ["tcp", "udp", "icmp", "none"].some((p) => spec.startsWith(p));
  if (!known) return "FKO_ERROR_INVALID_SPA_ACCESS_MSG";
  const slash = spec.indexOf("/");
  if (slash < 0 || slash + 1 > LIMITS.MAX_PROTO_STR_LEN) return "FKO_ERROR_INVALID_SPA_ACCESS_MSG";
  return havePort(spec.slice(slash + 1));
}

function fail(code: ErrorCode, what: string, value: string): Result<string> {
  return reject(code, `${what} ${JSON.stringify(value)}`);
}

/** Access message: `IPV4,proto/port[,proto/port…]` (libfko `validate_access_msg`). */
export function validateAccessMessage(msg: string): Result<string> {
  if (msg.length >= LIMITS.MAX_SPA_MESSAGE_SIZE) {
    return fail("FKO_ERROR_INVALID_DATA_MESSAGE_ACCESS_MISSING", "access message too long:", msg);
  }
  if (!haveAllowIp(msg)) return fail("FKO_ERROR_INVALID_ALLOW_IP", "invalid allow IP in", msg);
  let ndx = msg.indexOf(",");
  if (ndx < 0 || ndx + 1 >= msg.length) {
    return fail("FKO_ERROR_INVALID_SPA_ACCESS_MSG", "no proto/port in", msg);
  }
  while (ndx >= 0) {
    ndx++;
    const code = validateProtoPortSpec(msg.slice(ndx));
    if (code) return fail(code, "invalid proto/port spec in", msg);
    ndx = msg.indexOf(",", ndx);
  }
  return ok(msg);
}

/** Command message: `IPV4,anything` with something after the comma (libfko `validate_cmd_msg`). */
export function validateCommandMessage(msg: string): Result<string> {
  if (msg.length >= LIMITS.MAX_SPA_CMD_LEN) {
    return fail("FKO_ERROR_INVALID_DATA_MESSAGE_CMD_MISSING", "command message too long:", msg);
  }
  const comma = msg.indexOf(",");
  if (!haveAllowIp(msg) || comma < 0 || comma + 1 >= msg.length) {
    return fail("FKO_ERROR_INVALID_SPA_COMMAND_MSG", "invalid command message", msg);
  }
  return ok(msg);
}

/**
 * NAT access: `HOST,PORT` with exactly one comma, HOST ≤ 70 characters without space, `/`, `?`,
 * quotes or backslash (names allowed; fwknopd resolves them only with ENABLE_NAT_DNS).
 */
export function validateNatAccess(nat: string): Result<string> {
  if (nat.length >= LIMITS.MAX_SPA_MESSAGE_SIZE) {
    return fail("FKO_ERROR_INVALID_DATA_MESSAGE_NAT_MISSING", "NAT access too long:", nat);
  }
  const comma = nat.indexOf(",");
  const bad = (): Result<string> =>
    fail("FKO_ERROR_INVALID_SPA_NAT_ACCESS_MSG", "invalid NAT access", nat);
  if (comma < 0 || nat.indexOf(",", comma + 1) >= 0) return bad();
  if (comma > LIMITS.MAX_HOSTNAME_LEN) return bad();
  if (/[ /?"'\\]/.test(nat.slice(0, comma))) return bad();
  if (comma + 1 >= nat.length) return bad();
  if (havePort(nat.slice(comma + 1))) return bad();
  return ok(nat);
}

/** Characters refused in usernames besides controls and non-ASCII (libfko `validate_username`). */
const USERNAME_BANNED = new Set([...'"/\\[]:;|=,+*?<>'].map((c) => c.charCodeAt(0)));

/**
 * Username: non-empty; each byte alphanumeric or printable ASCII other than
 * `" / \ [ ] : ; | = , + * ? < >`. Only the first 64 bytes are examined, as in libfko.
 */
export function validateUsername(name: string): Result<string> {
  const n = Math.min(name.length, LIMITS.MAX_SPA_USERNAME_SIZE);
  if (n === 0) return reject("FKO_ERROR_INVALID_DATA_USER_MISSING", "empty username");
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (!isAlnum(c) && (c < 0x20 || c > 0x7e || USERNAME_BANNED.has(c))) {
      return fail(
        i === 0
          ? "FKO_ERROR_INVALID_DATA_USER_FIRSTCHAR_VALIDFAIL"
          : "FKO_ERROR_INVALID_DATA_USER_REMCHAR_VALIDFAIL",
        `invalid character at offset ${i} of username`,
        name,
      );
    }
  }
  return ok(name);
}
